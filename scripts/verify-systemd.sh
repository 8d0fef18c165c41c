#!/usr/bin/env bash
# Checks the systemd files offline: `systemd-analyze verify` must print
# nothing for the units (it exits 0 on mere warnings, so its output is what
# counts) and the sysusers.d entry must parse; then prints the exposure score
# of `systemd-analyze security` for information.
#
# verify insists that ExecStart's binary exists, so the units are checked from
# a temporary copy whose ExecStart points at a stand-in executable; nothing
# else in them changes.
set -euo pipefail

units_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../systemd" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

printf '#!/bin/sh\nexit 0\n' > "$work/sluice"
chmod 755 "$work/sluice"
grep -q '^ExecStart=/usr/local/bin/sluice serve$' "$units_dir/sluice.service" || {
    echo "verify-systemd: sluice.service no longer starts /usr/local/bin/sluice serve; update this script" >&2
    exit 1
}
sed "s|^ExecStart=/usr/local/bin/sluice |ExecStart=$work/sluice |" "$units_dir/sluice.service" > "$work/sluice.service"
cp "$units_dir/sluice.socket" "$work/sluice.socket"

status=0
output="$(systemd-analyze verify --man=no "$work/sluice.service" "$work/sluice.socket" 2>&1)" || status=$?
if [[ $status -ne 0 || -n "$output" ]]; then
    echo "verify-systemd: systemd-analyze verify failed (exit $status):" >&2
    printf '%s\n' "${output//$work/systemd}" >&2
    exit 1
fi
echo "verify-systemd: sluice.service and sluice.socket pass systemd-analyze verify"

# The sysusers.d entry must parse (dry run: nothing is written).
status=0
output="$(systemd-sysusers --dry-run "$units_dir/sluice.sysusers" 2>&1)" || status=$?
if [[ $status -ne 0 ]] || grep -qiE 'fail|ignor|invalid|unknown' <<<"$output"; then
    echo "verify-systemd: systemd-sysusers rejects sluice.sysusers (exit $status):" >&2
    printf '%s\n' "$output" >&2
    exit 1
fi
echo "verify-systemd: sluice.sysusers parses"

# Informational: the exposure score (lower is better).
systemd-analyze security --offline=yes --no-pager "$work/sluice.service" 2>&1 | tail -n 1 || true
