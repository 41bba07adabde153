#!/usr/bin/env bash
# Installs scikit-learn (Debian's `python3-sklearn`) for the detection benchmarks, which
# compare Custodia's isolation forest and gradient-boosted trees with scikit-learn's on
# the same data in the same run. Only `npm run bench` uses it; without it the benchmark
# reports our figures alone and says so. Idempotent; never waits for input
# (DEBIAN_FRONTEND=noninteractive, apt-get -y); gives apt a time limit; exits non-zero,
# and says why, when it cannot install.
#
# Usage: bash packages/custodia/scripts/install-sklearn.sh
# Prints the scikit-learn version on its last line (of Debian's /usr/bin/python3, or
# CUSTODIA_PYTHON).
set -euo pipefail

say() { printf '[install-sklearn] %s\n' "$*" >&2; }
# Debian's interpreter, which python3-sklearn installs for: a `python3` earlier on PATH
# (pyenv, a virtualenv) does not see it. CUSTODIA_PYTHON overrides.
python=${CUSTODIA_PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3
version() { "$python" -c 'import sklearn; print(sklearn.__version__)' 2>/dev/null; }

if v=$(version); then
  say "scikit-learn is installed"
  printf '%s\n' "$v"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  say "scikit-learn is missing and there is no apt-get here: install python3-sklearn by hand"
  exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    say "scikit-learn is missing and installing it needs root (or passwordless sudo)"
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_timeout=${SKLEARN_APT_TIMEOUT:-900}
say "installing Debian's python3-sklearn (apt-get, at most ${apt_timeout}s per step)"
if ! timeout "$apt_timeout" "${sudo[@]}" apt-get update -qq >&2; then
  say "apt-get update failed or timed out"
  exit 1
fi
if ! timeout "$apt_timeout" "${sudo[@]}" apt-get install -y -qq --no-install-recommends python3-sklearn </dev/null >&2; then
  say "apt-get install python3-sklearn failed or timed out"
  exit 1
fi

if ! v=$(version); then
  say "python3-sklearn installed but $python cannot import sklearn"
  exit 1
fi
say "scikit-learn installed"
printf '%s\n' "$v"
