#!/usr/bin/env bash
# Builds the libFuzzer target for the HTTP request parser and the WebSocket frame decoder with
# `swiftc -sanitize=fuzzer,address` and runs it for the given number of seconds (default 60).
# New inputs go to a scratch corpus; the committed seeds in fuzz/corpus stay small.
#   fuzz/run.sh 600
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/argus-fuzz"
mkdir -p "$work/corpus"
http="$root/Sources/HTTPServer/HTTP"
ws="$root/Sources/HTTPServer/WebSocket"
swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 \
    "$root/fuzz/FuzzEntry.swift" \
    "$http/HTTPRequestParser.swift" "$http/HTTPRequestHead.swift" "$http/HTTPHeaders.swift" "$http/HTTPMethod.swift" \
    "$http/HTTPVersion.swift" "$http/HTTPParserLimits.swift" "$http/HTTPParseError.swift" \
    "$ws/WebSocketFrame.swift" "$ws/WebSocketMessageAssembler.swift" "$ws/WebSocketCloseCode.swift" \
    -o "$work/fuzz-http"
echo "fuzzing for ${seconds}s (scratch corpus in $work/corpus)"
"$work/fuzz-http" -max_total_time="$seconds" -max_len=16384 -timeout=10 -print_final_stats=1 \
    "$work/corpus" "$root/fuzz/corpus"
