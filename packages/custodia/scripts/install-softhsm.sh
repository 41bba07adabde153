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

if ! command -v apt-get >/dev/null 2>&1; then
  say "softhsm2-util is missing and there is no apt-get here: install SoftHSM2 by hand"
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    say "softhsm2-util is missing and installing it needs root (or passwordless sudo)"
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_timeout=${SOFTHSM_APT_TIMEOUT:-600}
say "installing Debian's softhsm2 (apt-get, at most ${apt_timeout}s per step)"
if ! timeout "$apt_timeout" "${sudo[@]}" apt-get update -qq >&2; then
  say "apt-get update failed or timed out"
  exit 1
fi
if ! timeout "$apt_timeout" "${sudo[@]}" apt-get install -y -qq --no-install-recommends softhsm2 </dev/null >&2; then
  say "apt-get install softhsm2 failed or timed out"
  exit 1
fi

if ! command -v softhsm2-util >/dev/null 2>&1 || ! module=$(find_module); then
  say "softhsm2 installed but softhsm2-util or libsofthsm2.so is not where expected"
  exit 1
fi
say "SoftHSM2 installed ($(softhsm2-util --version 2>/dev/null || echo '?'))"
printf '%s\n' "$module"
