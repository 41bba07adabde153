#!/usr/bin/env bash
# Installs Debian packages for the project's optional suites and benchmarks (sourced by
# install-softhsm.sh and install-sklearn.sh). Never waits for input
# (DEBIAN_FRONTEND=noninteractive, apt-get -y), gives each apt step a time limit so CI
# reports a failure instead of hanging, and uses passwordless sudo when not root.
#
# Usage (after defining `say`): apt_install TIMEOUT_SECONDS PACKAGE…   (returns non-zero, having said why)

apt_install() {
  local timeout_s=$1
  shift
  if ! command -v apt-get >/dev/null 2>&1; then
    say "there is no apt-get here: install $* by hand"
    return 1
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      say "installing $* needs root (or passwordless sudo)"
      return 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  say "installing Debian's $* (apt-get, at most ${timeout_s}s per step)"
  if ! timeout "$timeout_s" "${sudo[@]}" apt-get update -qq >&2; then
    say "apt-get update failed or timed out"
    return 1
  fi
  if ! timeout "$timeout_s" "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" </dev/null >&2; then
    say "apt-get install $* failed or timed out"
    return 1
  fi
}
