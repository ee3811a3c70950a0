#!/usr/bin/env bash
# Install the exhibit controller as a service on Raspberry Pi OS / Debian 12:
#   sudo deploy/install.sh                 install or update (run it again after `git pull`)
#   sudo deploy/install.sh --uninstall     remove the service, venv, udev rule and user
#   sudo deploy/install.sh --uninstall --purge   ... and /etc/exhibit and /var/lib/exhibit
#   deploy/install.sh --dry-run            print every command instead of running it
#   deploy/install.sh --prefix DIR         install under DIR instead of / (for tests)
#   deploy/install.sh --config FILE        the first config (default: the demo exhibit)
#
# Idempotent: every step looks before it acts, so a second run on an installed machine changes
# nothing (and with --dry-run prints no command). Planned commands go to stdout as "+ cmd";
# what the script decides goes to stderr. Where systemd does not run (a chroot, an SD card image
# being prepared) the unit is enabled for the next boot and nothing is started or reloaded.
# deploy/test-in-chroot.sh runs it for real in a clean Debian root.
set -euo pipefail

readonly SERVICE_USER=exhibit
readonly SERVICE_GROUPS=(gpio video dialout audio)
# What the pip wheels need from the system and do not bundle: the venv itself, OpenCV's and
# MediaPipe's libGL/GLib/X11 libraries (found with ldd on the installed wheels), ALSA for
# pygame's bundled SDL. pygame, numpy and OpenCV bundle SDL2, SDL2_mixer, OpenBLAS and FFmpeg.
# systemd and udev run the service and name the bridge, procps has the unit's /bin/kill (for
# `systemctl reload`): always there on Raspberry Pi OS, listed for a minimal Debian (a
# debootstrap root has none of them).
readonly APT_PACKAGES=(python3-venv libgl1 libglib2.0-0 libsm6 libice6 libxext6 libx11-6 libasound2
    systemd udev procps)
# gpiozero's pin library on a Pi, from Raspberry Pi OS (the venv sees it); skipped where absent.
readonly APT_OPTIONAL=(python3-lgpio)

SOURCE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly SOURCE_DIR
CONFIG_SOURCE="$SOURCE_DIR/media/demo/exhibit.toml"
ROOT=""
DRY_RUN=0
ACTION=install
PURGE=0
PRINT_SOURCE_HASH=0

usage() {
    sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

while (($# > 0)); do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --uninstall) ACTION=uninstall ;;
        --purge) PURGE=1 ;;
        --prefix)
            [[ $# -ge 2 ]] || { echo "install.sh: --prefix needs a directory" >&2; exit 2; }
            ROOT="$(cd "$2" && pwd)" || { echo "install.sh: no such directory: $2" >&2; exit 2; }
            [[ "$ROOT" == / ]] && ROOT=""
            shift ;;
        --config)
            [[ $# -ge 2 ]] || { echo "install.sh: --config needs a file" >&2; exit 2; }
            CONFIG_SOURCE="$2"
            shift ;;
        --source-hash) PRINT_SOURCE_HASH=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install.sh: unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if ((PURGE)) && [[ $ACTION != uninstall ]]; then
    echo "install.sh: --purge goes with --uninstall" >&2
    exit 2
fi

readonly OPT_DIR="$ROOT/opt/exhibit"
readonly VENV="$OPT_DIR/venv"
readonly SOURCE_STAMP="$VENV/.exhibit-source"
readonly BIN_LINK="$ROOT/usr/local/bin/exhibit"
readonly ETC_DIR="$ROOT/etc/exhibit"
readonly CONFIG="$ETC_DIR/exhibit.toml"
readonly STATE_DIR="$ROOT/var/lib/exhibit"
readonly UNIT_SOURCE="$SOURCE_DIR/deploy/exhibit.service"
readonly UNIT="$ROOT/etc/systemd/system/exhibit.service"
readonly UNIT_WANTS="$ROOT/etc/systemd/system/multi-user.target.wants/exhibit.service"
readonly RULE_SOURCE="$SOURCE_DIR/deploy/99-exhibit-bridge.rules"
readonly RULE="$ROOT/etc/udev/rules.d/99-exhibit-bridge.rules"

CHANGED=0  # whether the service must be restarted to pick up what changed

# Whether systemd runs this machine (sd_booted(3): /run/systemd/system exists). Not in a chroot
# (an image being prepared, a rescue shell) or a container without it: then nothing is started
# or reloaded, the unit is only enabled for the next boot. EXHIBIT_ASSUME_BOOTED=0/1 overrides.
booted() {
    case "${EXHIBIT_ASSUME_BOOTED:-}" in
        1) return 0 ;;
        0) return 1 ;;
    esac
    [[ -d /run/systemd/system ]]
}

say() { echo "install.sh: $*" >&2; }

join_by() {
    local IFS="$1"
    shift
    echo "$*"
}

# Run a command, or print it (shell-quoted) with --dry-run.
run() {
    if ((DRY_RUN)); then
        printf '+'
        printf ' %q' "$@"
        printf '\n'
    else
        "$@"
    fi
}

# The --prefix variants of the account tools and systemctl.
PREFIX_OPT=()
SYSTEMCTL_OPT=()
if [[ -n $ROOT ]]; then
    PREFIX_OPT=(--prefix "$ROOT")
    SYSTEMCTL_OPT=(--root "$ROOT")
fi
readonly PREFIX_OPT SYSTEMCTL_OPT

has_group() {
    if [[ -n $ROOT ]]; then
        grep -q "^$1:" "$ROOT/etc/group" 2>/dev/null
    else
        getent group "$1" >/dev/null
    fi
}

has_user() {
    if [[ -n $ROOT ]]; then
        grep -q "^$1:" "$ROOT/etc/passwd" 2>/dev/null
    else
        getent passwd "$1" >/dev/null
    fi
}

# Whether user $1 is a member of group $2 (as a supplementary group).
in_group() {
    local members
    if [[ -n $ROOT ]]; then
        members="$(grep "^$2:" "$ROOT/etc/group" 2>/dev/null | cut -d: -f4)" || true
    else
        members="$(getent group "$2" | cut -d: -f4)" || true
    fi
    [[ ",$members," == *",$1,"* ]]
}

# A hash of what pip installs from the checkout: a new one means the venv is out of date.
source_hash() {
    (
        cd "$SOURCE_DIR"
        find exhibit firmware_bridge calibration pyproject.toml constraints.txt -type f \
            ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 2>/dev/null |
            LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
    )
}

# Copy $1 to $2 with mode $3 unless $2 already has the same content.
install_file() {
    if [[ -f $2 ]] && cmp -s "$1" "$2"; then
        return 1
    fi
    run install -D -m "$3" "$1" "$2"
}

# --- install steps -------------------------------------------------------------------------

install_packages() {
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done
    for pkg in "${APT_OPTIONAL[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' &&
            apt-cache show "$pkg" >/dev/null 2>&1; then
            missing+=("$pkg")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    if [[ -n $ROOT ]]; then
        say "not installing packages into a prefix; this machine lacks: ${missing[*]}"
        return 0
    fi
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

install_user() {
    local group missing=()
    for group in "${SERVICE_GROUPS[@]}"; do
        # Raspberry Pi OS has them all; a plain Debian may lack gpio.
        has_group "$group" || run groupadd "${PREFIX_OPT[@]}" --system "$group"
    done
    if ! has_user "$SERVICE_USER"; then
        run useradd "${PREFIX_OPT[@]}" --system --user-group \
            --home-dir /var/lib/exhibit --no-create-home --shell /usr/sbin/nologin \
            --comment "exhibit controller" --groups "$(join_by , "${SERVICE_GROUPS[@]}")" \
            "$SERVICE_USER"
        CHANGED=1
        return 0
    fi
    for group in "${SERVICE_GROUPS[@]}"; do
        in_group "$SERVICE_USER" "$group" || missing+=("$group")
    done
    if ((${#missing[@]} > 0)); then
        run usermod "${PREFIX_OPT[@]}" --append --groups "$(join_by , "${missing[@]}")" \
            "$SERVICE_USER"
        CHANGED=1
    fi
}

# Ownership only on a real install: a prefix's users are not this machine's.
OWN_USER=()
if [[ -z $ROOT ]]; then
    OWN_USER=(-o "$SERVICE_USER" -g "$SERVICE_USER")
fi
readonly OWN_USER

install_dirs() {
    # Readable by all: the technician runs `exhibit check` on it; only root writes it.
    [[ -d $ETC_DIR ]] || run install -d -m 0755 "$ETC_DIR"
    [[ -d $STATE_DIR ]] ||
        run install -d -m 0750 "${OWN_USER[@]}" "$STATE_DIR"
}

install_venv() {
    local hash
    hash="$(source_hash)"
    if [[ ! -x $VENV/bin/python ]]; then
        # --system-site-packages: gpiozero finds Raspberry Pi OS's lgpio (no wheel to build).
        run python3 -m venv --system-site-packages "$VENV"
    fi
    if [[ -f $SOURCE_STAMP && "$(cat "$SOURCE_STAMP")" == "$hash" ]]; then
        return 0
    fi
    # A copy of the checkout (not editable): the service runs what was installed, whatever
    # happens to the clone afterwards. The constraints pin every dependency as tested.
    run "$VENV/bin/pip" install --quiet --upgrade --no-cache-dir --root-user-action=ignore \
        --constraint "$SOURCE_DIR/constraints.txt" "$SOURCE_DIR"
    if ((DRY_RUN)); then
        printf '+ echo %q > %q\n' "$hash" "$SOURCE_STAMP"
    else
        echo "$hash" >"$SOURCE_STAMP"
    fi
    CHANGED=1
}

install_command_link() {
    # `exhibit check`, `exhibit sensors`... for the technician, from any shell.
    [[ "$(readlink "$BIN_LINK" 2>/dev/null)" != /opt/exhibit/venv/bin/exhibit ]] || return 0
    [[ -d ${BIN_LINK%/*} ]] || run install -d "${BIN_LINK%/*}"
    run ln -sfn /opt/exhibit/venv/bin/exhibit "$BIN_LINK"
}

install_config() {
    # Never overwrite the designer's config: only the first install writes one.
    if [[ ! -e $CONFIG ]]; then
        run install -m 0644 "$CONFIG_SOURCE" "$CONFIG"
    fi
    # The demo's sounds are relative to its config, so they travel with it.
    local sounds
    sounds="$(dirname "$CONFIG_SOURCE")/sounds"
    if [[ -d $sounds && ! -e $ETC_DIR/sounds ]]; then
        run cp -r "$sounds" "$ETC_DIR/sounds"
    fi
}

install_udev_rule() {
    if install_file "$RULE_SOURCE" "$RULE" 0644 && [[ -z $ROOT ]] && booted; then
        run udevadm control --reload-rules
        # Plugged-in bridges get their /dev/exhibit-bridge now, not at the next replug.
        run udevadm trigger --action=add --subsystem-match=tty
    fi
}

install_unit() {
    if install_file "$UNIT_SOURCE" "$UNIT" 0644; then
        CHANGED=1
        [[ -n $ROOT ]] || ! booted || run systemctl daemon-reload
    fi
    if [[ ! -L $UNIT_WANTS ]]; then
        # Works without a running systemd too (it only makes the wants/ link).
        run systemctl "${SYSTEMCTL_OPT[@]}" enable exhibit.service
    fi
    [[ -n $ROOT ]] && return 0
    if ! booted; then
        say "systemd is not running here (a chroot or a container): the service is enabled" \
            "for the next boot, not started now"
        return 0
    fi
    # Start it, or restart it on new code, unit or groups; leave a running, current one alone.
    if ((CHANGED)) || ! systemctl is-active --quiet exhibit.service; then
        run systemctl restart exhibit.service
    fi
}

# --- uninstall steps -----------------------------------------------------------------------

uninstall() {
    if [[ -e $UNIT || -L $UNIT_WANTS ]]; then
        if [[ -z $ROOT ]] && booted; then
            run systemctl disable --now exhibit.service
        elif [[ -z $ROOT ]]; then
            run systemctl disable exhibit.service
        else
            run systemctl --root "$ROOT" disable exhibit.service
        fi
    fi
    if [[ -e $UNIT ]]; then
        run rm -f "$UNIT"
        [[ -n $ROOT ]] || ! booted || run systemctl daemon-reload
    fi
    if [[ -e $RULE ]]; then
        run rm -f "$RULE"
        [[ -n $ROOT ]] || ! booted || run udevadm control --reload-rules
    fi
    [[ ! -L $BIN_LINK ]] || run rm -f "$BIN_LINK"
    [[ ! -e $OPT_DIR ]] || run rm -rf "$OPT_DIR"
    # The groups stay: gpio, video, dialout and audio belong to the system, not to us.
    if has_user "$SERVICE_USER"; then
        run userdel "${PREFIX_OPT[@]}" "$SERVICE_USER"
    fi
    if has_group "$SERVICE_USER"; then
        run groupdel "${PREFIX_OPT[@]}" "$SERVICE_USER"
    fi
    if ((PURGE)); then
        [[ ! -e $ETC_DIR ]] || run rm -rf "$ETC_DIR"
        [[ ! -e $STATE_DIR ]] || run rm -rf "$STATE_DIR"
    else
        local kept=()
        [[ ! -e $ETC_DIR ]] || kept+=("$ETC_DIR")
        [[ ! -e $STATE_DIR ]] || kept+=("$STATE_DIR")
        ((${#kept[@]} == 0)) || say "kept ${kept[*]} (--purge removes them)"
    fi
}

main() {
    if ((PRINT_SOURCE_HASH)); then
        source_hash
        return 0
    fi
    if ((!DRY_RUN)) && [[ -z $ROOT ]] && ((EUID != 0)); then
        say "run it as root (sudo $0), or try --dry-run"
        return 1
    fi
    if [[ $ACTION == uninstall ]]; then
        uninstall
        return 0
    fi
    [[ -f $CONFIG_SOURCE ]] || { say "no such config: $CONFIG_SOURCE"; return 2; }
    install_packages
    install_user
    install_dirs
    install_venv
    install_command_link
    install_config
    install_udev_rule
    install_unit
    if ((!DRY_RUN)); then
        say "installed; edit $CONFIG, then: exhibit check $CONFIG && sudo systemctl reload exhibit"
    fi
}

main
