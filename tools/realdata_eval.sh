#!/usr/bin/env bash
# Real-data rolling-origin benchmark (models/README.md, "Real data benchmark").
#
#   tools/realdata_eval.sh [ARGUSD] [-- realdata_eval.py options]
#
# Creates .venv-realdata with the pinned statsforecast (a peer tool only: the daemon never needs it) and
# runs tools/realdata_eval.py with Argus = ARGUSD (default .build/release/argusd) on models/.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/.." && pwd)
BIN=${1:-$ROOT/.build/release/argusd}; shift $(( $# > 0 ? 1 : 0 )) || true
[ "${1:-}" = "--" ] && shift
VENV=$ROOT/.venv-realdata
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import statsforecast" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements-realdata.txt"
fi
exec "$VENV/bin/python" "$HERE/realdata_eval.py" --argusd "$BIN" "$@"
