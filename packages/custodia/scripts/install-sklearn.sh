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

# shellcheck source=apt-install.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh"
apt_install "${SKLEARN_APT_TIMEOUT:-900}" python3-sklearn || exit 1

if ! v=$(version); then
  say "python3-sklearn installed but $python cannot import sklearn"
  exit 1
fi
say "scikit-learn installed"
printf '%s\n' "$v"
