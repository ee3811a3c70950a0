#!/usr/bin/env bash
# Run deploy/install.sh for real in a clean Debian 12 root (debootstrap --variant=minbase), the
# way a technician runs it on a fresh Raspberry Pi OS card, then check what it left:
#
#   1. install (apt packages, user and groups, venv with the pinned wheels, /etc/exhibit,
#      /var/lib/exhibit, udev rule, unit enabled for the next boot; systemd is not running in a
#      chroot, so install.sh must notice and not try to start anything);
#   2. install again: nothing on the file system may change (a listing of every path with type,
#      mode, owner, size and modification time is compared before and after);
#   3. the installed command works as the service user: `exhibit check --offline` on the config;
#   4. --uninstall (config and state kept), --uninstall again (nothing to do), --uninstall --purge.
#
#   sudo deploy/test-in-chroot.sh [WORKDIR]     default WORKDIR: /tmp/exhibit-chroot-test
#   sudo deploy/test-in-chroot.sh --ansible [WORKDIR]
#
# With --ansible, steps 1 and 2 run the fleet playbook (deploy/ansible/playbook.yml) instead,
# with ansible-core (pinned in constraints.txt) in a venv of the root and `ansible_connection=
# local` inside it, on the example config template; the second run must report changed=0. The
# checks and the uninstall (install.sh's) are the same.
#
# Needs root, debootstrap, and the network (the Debian mirror, and the package index pip uses).
# The clean root is debootstrapped once into WORKDIR/base and copied for every run (delete it to
# start from the mirror again). Environment: MIRROR (default: the first deb.debian.org-style URI
# in this machine's apt sources, else http://deb.debian.org/debian), SUITE (bookworm),
# KEEP=1 keeps WORKDIR/root afterwards for a look inside. Exit 0 when every check passed.
set -euo pipefail

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR
MODE=install.sh
if [[ ${1:-} == --ansible ]]; then
    MODE=ansible
    shift
fi
readonly MODE
WORK="${1:-/tmp/exhibit-chroot-test}"
SUITE="${SUITE:-bookworm}"
readonly SUITE
ROOT="$WORK/root"
readonly ROOT
SRC_IN_ROOT=/usr/src/exhibit
readonly SRC_IN_ROOT
MOUNTS=()
FAILED=0

say() { printf 'test-in-chroot: %s\n' "$*" >&2; }
fail() {
    say "FAIL: $*"
    FAILED=1
}
die() {
    say "$*"
    exit 2
}

[[ $EUID -eq 0 ]] || die "run it as root (it debootstraps, mounts and chroots)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"

default_mirror() {
    local uri
    uri="$(grep -hoE '(URIs:|^deb) +https?://[^ ]+/debian/?( |$)' \
        /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -n1 |
        grep -oE 'https?://[^ ]+' || true)"
    echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR="${MIRROR:-$(default_mirror)}"
readonly MIRROR

cleanup() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount -l "${MOUNTS[i]}" 2>/dev/null || true
    done
    MOUNTS=()
    if [[ ${KEEP:-0} != 1 && -d $ROOT ]]; then
        rm -rf --one-file-system "$ROOT"
    fi
}
trap cleanup EXIT

mount_into() { # mount_into ARGS... TARGET
    mount "$@"
    MOUNTS+=("${*: -1}")
}

seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f s", b - a }'; }

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 "${PIP_ENV[@]}" "$@"; }

# Every path of the root that an install may touch, with what would show a change.
listing() {
    (
        cd "$ROOT"
        find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o \
            -path ./tmp -o -path ./var/log -o -path ./var/cache -o -path ./var/lib/apt/lists \
            -o -path ".$SRC_IN_ROOT" \) -prune -o \
            -printf '%p\t%y\t%m\t%U\t%G\t%s\t%T@\t%l\n' | LC_ALL=C sort
    )
}

# --- the clean root --------------------------------------------------------------------------
mkdir -p "$WORK"
if [[ ! -f $WORK/base/etc/debian_version ]]; then
    rm -rf --one-file-system "$WORK/base"
    say "debootstrap --variant=minbase $SUITE from $MIRROR"
    t0="$(seconds)"
    debootstrap --variant=minbase "$SUITE" "$WORK/base" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
        die "debootstrap failed: see $WORK/debootstrap.log"
    say "debootstrap: $(elapsed "$t0")"
fi
rm -rf --one-file-system "$ROOT"
cp -a "$WORK/base" "$ROOT"

# The checkout, as a clone would have it (no venv, caches or build leftovers).
mkdir -p "$ROOT$SRC_IN_ROOT"
tar -C "$SOURCE_DIR" --exclude=./.venv --exclude=./.git --exclude='*/__pycache__' \
    --exclude='*.egg-info' --exclude=./.mypy_cache --exclude=./.ruff_cache \
    --exclude=./.pytest_cache --exclude=./build -cf - . | tar -C "$ROOT$SRC_IN_ROOT" -xf -

mount_into -t proc proc "$ROOT/proc"
mount_into --rbind /sys "$ROOT/sys"
mount_into --bind /dev "$ROOT/dev"
mount_into --bind /dev/pts "$ROOT/dev/pts"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
# apt must not start daemons inside the chroot (the standard Debian way to say so).
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"

# pip inside uses the same package index as this machine when that is a URL (a mirror); paths of
# this machine (local wheel folders, a CA bundle) do not exist in the root and are left out.
PIP_ENV=()
while IFS='=' read -r name value; do
    PIP_ENV+=("$name=$value")
done < <(env | grep -E '^PIP_(INDEX_URL|EXTRA_INDEX_URL|TRUSTED_HOST|DEFAULT_TIMEOUT)=' || true)
if [[ -f /etc/pip.conf ]] && ! grep -qE 'file://|find-links|cert' /etc/pip.conf; then
    cp /etc/pip.conf "$ROOT/etc/pip.conf"
fi
# ... and trusts what this machine trusts (a network behind a TLS-inspecting proxy has its own
# CA, which a fresh root does not know). Under /tmp: not part of what the install is judged on.
host_ca="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
if [[ -f $host_ca ]]; then
    mkdir -p "$ROOT/tmp"
    cp -L "$host_ca" "$ROOT/tmp/host-ca.crt"
    PIP_ENV+=("PIP_CERT=/tmp/host-ca.crt")
fi
readonly PIP_ENV

install_sh="$SRC_IN_ROOT/deploy/install.sh"

if [[ $MODE == ansible ]]; then
    say "0. ansible-core in a venv of the root (not part of what is compared)"
    t0="$(seconds)"
    {
        in_root apt-get update &&
            in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                python3-venv &&
            in_root python3 -m venv /tmp/ansible &&
            in_root /tmp/ansible/bin/pip install --quiet --no-cache-dir \
                --constraint "$SRC_IN_ROOT/constraints.txt" ansible-core
    } >"$WORK/ansible-setup.log" 2>&1 || die "could not install ansible-core (log: $WORK/ansible-setup.log)"
    say "   $(elapsed "$t0")"
    cat >"$ROOT/tmp/inventory.ini" <<INVENTORY
[exhibits]
localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3 exhibit_name="Chroot test" exhibit_config=configs/cell.toml.j2 projector_host=127.0.0.1 exhibit_src=$SRC_IN_ROOT
INVENTORY
fi

# The installer under test, in the root: install.sh, or the playbook.
installer() {
    if [[ $MODE == ansible ]]; then
        in_root env ANSIBLE_HOME=/tmp/ansible-home ANSIBLE_LOCAL_TEMP=/tmp/ansible-home/tmp \
            ANSIBLE_REMOTE_TEMP=/tmp/ansible-home/remote ANSIBLE_NOCOLOR=1 \
            /tmp/ansible/bin/ansible-playbook -i /tmp/inventory.ini \
            "$SRC_IN_ROOT/deploy/ansible/playbook.yml"
    else
        in_root bash "$install_sh"
    fi
}

# --- 1. install --------------------------------------------------------------------------------
say "1. $MODE in the clean root"
t0="$(seconds)"
if ! installer >"$WORK/install-1.log" 2>&1; then
    tail -n 40 "$WORK/install-1.log" >&2
    die "the first install failed (log: $WORK/install-1.log)"
fi
say "   first install: $(elapsed "$t0")"
if [[ $MODE == install.sh ]]; then
    grep -q 'systemd is not running' "$WORK/install-1.log" ||
        fail "install.sh did not say that it skipped starting the service"
else
    say "   $(grep -E '^localhost +:' "$WORK/install-1.log" | tr -s ' ')"
fi

# --- 2. install again: nothing changes --------------------------------------------------------
listing >"$WORK/listing-1.txt"
say "2. $MODE again"
t0="$(seconds)"
installer >"$WORK/install-2.log" 2>&1 || fail "the second install failed"
say "   second install: $(elapsed "$t0")"
if [[ $MODE == ansible ]]; then
    recap="$(grep -E '^localhost +:' "$WORK/install-2.log" | tr -s ' ')"
    say "   $recap"
    [[ $recap == *" changed=0 "* ]] || fail "the second playbook run changed something"
fi
listing >"$WORK/listing-2.txt"
if ! diff -u "$WORK/listing-1.txt" "$WORK/listing-2.txt" >"$WORK/listing.diff"; then
    fail "the second run changed the file system:"
    head -n 40 "$WORK/listing.diff" >&2
else
    say "   no path changed ($(wc -l <"$WORK/listing-1.txt") paths compared)"
fi

# --- 3. what was installed -----------------------------------------------------------------------
say "3. checks"
check() { # check DESCRIPTION COMMAND...
    if "${@:2}" >/dev/null 2>&1; then say "   ok: $1"; else fail "$1"; fi
}
groups_of_exhibit="$(in_root id -nG exhibit 2>/dev/null || true)"
for group in gpio video dialout audio; do
    check "user exhibit is in group $group" grep -qw "$group" <<<"$groups_of_exhibit"
done
check "the venv runs" test -x "$ROOT/opt/exhibit/venv/bin/exhibit"
check "exhibit on the PATH" test -L "$ROOT/usr/local/bin/exhibit"
check "config in /etc/exhibit" test -f "$ROOT/etc/exhibit/exhibit.toml"
check "state dir owned by exhibit" test "$(in_root stat -c %U:%a /var/lib/exhibit 2>/dev/null)" = exhibit:750
check "udev rule" cmp "$SOURCE_DIR/deploy/99-exhibit-bridge.rules" \
    "$ROOT/etc/udev/rules.d/99-exhibit-bridge.rules"
check "unit installed" cmp "$SOURCE_DIR/deploy/exhibit.service" \
    "$ROOT/etc/systemd/system/exhibit.service"
check "unit enabled for boot" test -L "$ROOT/etc/systemd/system/multi-user.target.wants/exhibit.service"
if in_root setpriv --reuid=exhibit --regid=exhibit --init-groups \
    /usr/local/bin/exhibit check --offline /etc/exhibit/exhibit.toml >"$WORK/check.log" 2>&1; then
    say "   ok: exhibit check as user exhibit: $(tail -n1 "$WORK/check.log")"
else
    fail "exhibit check as user exhibit: $(tail -n3 "$WORK/check.log")"
fi
if in_root systemd-analyze verify /etc/systemd/system/exhibit.service >"$WORK/verify.log" 2>&1; then
    say "   ok: systemd-analyze verify of the installed unit"
else
    fail "systemd-analyze verify: $(tail -n3 "$WORK/verify.log")"
fi

# --- 4. uninstall ----------------------------------------------------------------------------------
say "4. --uninstall"
in_root bash "$install_sh" --uninstall >"$WORK/uninstall-1.log" 2>&1 || fail "--uninstall failed"
for gone in /opt/exhibit /usr/local/bin/exhibit /etc/systemd/system/exhibit.service \
    /etc/systemd/system/multi-user.target.wants/exhibit.service \
    /etc/udev/rules.d/99-exhibit-bridge.rules; do
    check "removed $gone" test ! -e "$ROOT$gone" -a ! -L "$ROOT$gone"
done
check "user exhibit removed" test -z "$(grep '^exhibit:' "$ROOT/etc/passwd" || true)"
check "kept /etc/exhibit" test -f "$ROOT/etc/exhibit/exhibit.toml"
check "kept /var/lib/exhibit" test -d "$ROOT/var/lib/exhibit"
listing >"$WORK/listing-3.txt"
in_root bash "$install_sh" --uninstall >"$WORK/uninstall-2.log" 2>&1 || fail "a second --uninstall failed"
listing >"$WORK/listing-4.txt"
check "a second --uninstall changes nothing" cmp "$WORK/listing-3.txt" "$WORK/listing-4.txt"
in_root bash "$install_sh" --uninstall --purge >"$WORK/uninstall-3.log" 2>&1 || fail "--purge failed"
check "purged /etc/exhibit" test ! -e "$ROOT/etc/exhibit"
check "purged /var/lib/exhibit" test ! -e "$ROOT/var/lib/exhibit"

if ((FAILED)); then
    say "FAILED (logs in $WORK)"
    exit 1
fi
say "all checks passed (logs in $WORK)"
