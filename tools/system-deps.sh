#!/usr/bin/env bash
# System programs the test suite talks to for real: a Mosquitto MQTT broker (fleet telemetry)
# and Chromium (the analytics report looked at in a browser). Installed from Debian's packages
# when missing and when this runs as root with apt; otherwise it says what is missing and the
# tests that need it are skipped with that reason. Idempotent: nothing happens when present.
set -u
missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing from Debian's packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        apt-get update -qq >/dev/null && \
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || \
            echo "warning: could not install ${missing[*]}; the tests that need them will skip"
    fi
    # Debian starts the broker as a service where systemd runs; the tests start their own.
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
        systemctl disable --now mosquitto >/dev/null 2>&1 || true
    fi
else
    echo "note: ${missing[*]} not installed (needs root and apt); the tests that need them will skip"
fi
exit 0
