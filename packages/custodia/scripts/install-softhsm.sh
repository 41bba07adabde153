#!/usr/bin/env bash
# Installs SoftHSM2 (Debian's `softhsm2`: the PKCS#11 module and softhsm2-util) for the
# PKCS#11 key-provider suite. Idempotent: does nothing when softhsm2-util and the module
# are already there. Exits non-zero, and says why, when it cannot install; it never waits
# for input (DEBIAN_FRONTEND=noninteractive, apt-get -y) and gives apt a time limit, so CI
# reports a failure instead of hanging.
#
# Usage: bash packages/custodia/scripts/install-softhsm.sh
# Prints the module path on its last line (default /usr/lib/softhsm/libsofthsm2.so).
set -euo pipefail

MODULE_CANDIDATES=(
  /usr/lib/softhsm/libsofthsm2.so
  "/usr/lib/$(uname -m 2>/dev/null || echo unknown)-linux-gnu/softhsm/libsofthsm2.so"
)

say() { printf '[install-softhsm] %s\n' "$*" >&2; }

find_module() {
  for m in "${MODULE_CANDIDATES[@]}"; do
    if [ -f "$m" ]; then printf '%s\n' "$m"; return 0; fi
  done
  return 1
}

if command -v softhsm2-util >/dev/null 2>&1 && module=$(find_module); then
  say "SoftHSM2 is installed ($(softhsm2-util --version 2>/dev/null || echo '?'))"
  printf '%s\n' "$module"
  exit 0
fi

# shellcheck source=apt-install.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install "${SOFTHSM_APT_TIMEOUT:-600}" softhsm2 || exit 1

if ! command -v softhsm2-util >/dev/null 2>&1 || ! module=$(find_module); then
  say "softhsm2 installed but softhsm2-util or libsofthsm2.so is not where expected"
  exit 1
fi
say "SoftHSM2 installed ($(softhsm2-util --version 2>/dev/null || echo '?'))"
printf '%s\n' "$module"
