#!/usr/bin/env bash
# Schema-driven fuzzing of the main API (:8000 listener) with Schemathesis, against a live `argusd demo`.
# Not part of tools/test.sh or .ci/run on purpose: the run is randomised (Hypothesis) and time-bounded, so CI
# would not be deterministic. Usage: bash tools/fuzz_api.sh [--max-examples N] [--max-time SECONDS]
# Creates .venv-fuzz/ (gitignored) with the pinned Schemathesis, builds argusd (debug), starts the demo on a free
# port with a temporary data dir, runs `st run --checks all`, stops the demo. Exit status is Schemathesis's.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

max_examples=25
max_time=600
while [ "$#" -gt 0 ]; do
    case "$1" in
        --max-examples) max_examples=$2; shift 2 ;;
        --max-time) max_time=$2; shift 2 ;;
        *) echo "tools/fuzz_api.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

venv=.venv-fuzz
schemathesis_version=4.32.5
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$schemathesis_version"; then
    python3 -m venv "$venv"
    "$venv/bin/python3" -m pip install -q --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

swift build --product argusd

data_dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.build/debug/argusd demo --port "$port" --data-dir "$data_dir" --backfill-steps 120 \
    --rate-feed 100000 --rate-predictions 100000 --rate-admin 100000 > "$data_dir/demo.log" 2>&1 &
demo_pid=$!
trap 'kill "$demo_pid" 2>/dev/null; wait "$demo_pid" 2>/dev/null; rm -rf "$data_dir"' EXIT

for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$port/openapi.json" > /dev/null 2>&1 && [ -s "$data_dir/api_key" ]; then break; fi
    kill -0 "$demo_pid" 2>/dev/null || { cat "$data_dir/demo.log" >&2; exit 1; }
    sleep 1
done
key=$(cat "$data_dir/api_key")

status=0
"$venv/bin/st" run "http://127.0.0.1:$port/openapi.json" -H "X-API-Key: $key" --checks all \
    --max-examples "$max_examples" --max-time "$max_time" --workers 1 || status=$?

if ! kill -0 "$demo_pid" 2>/dev/null; then
    echo "tools/fuzz_api.sh: argusd demo died during the run; its log:" >&2
    tail -50 "$data_dir/demo.log" >&2
    status=1
fi
exit "$status"
