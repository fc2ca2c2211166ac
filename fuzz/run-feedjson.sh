#!/usr/bin/env bash
# Differential libFuzzer target for the feed's fast JSON reader (Sources/Daemon/Feed/FeedJSON.swift):
# whenever the fast path accepts a body, JSONSerialization must accept it and give the same value.
# Builds with `swiftc -sanitize=fuzzer,address` and runs for the given number of seconds (default 60).
#   fuzz/run-feedjson.sh 300
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/argus-fuzz-feedjson"
mkdir -p "$work/corpus"
swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 \
    "$root/fuzz/FeedJSONFuzz.swift" "$root/Sources/Daemon/Feed/FeedJSON.swift" \
    -o "$work/fuzz-feedjson" 2> >(grep -v "Cannot export local symbol" >&2)
echo "fuzzing for ${seconds}s (scratch corpus in $work/corpus)"
"$work/fuzz-feedjson" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
    "$work/corpus" "$root/fuzz/corpus-feedjson"
