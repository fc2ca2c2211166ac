#!/usr/bin/env bash
# The whole test suite: the README's test command, and exactly what .ci/run runs.
# Creates .venv-test/ (once, and again when tools/requirements-test.txt changes) with the Python clients the
# tests drive the daemon with, puts it first on PATH, then runs `swift test --parallel` (extra arguments are
# passed on, e.g. `bash tools/test.sh --filter Feed`); a full run (no arguments) then runs the dashboard's browser
# test, Tests/browser/test_dashboard.py, and the short schema fuzzing run, tools/fuzz_api.sh --short.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

venv=.venv-test
requirements=tools/requirements-test.txt
if ! "$venv/bin/python3" -c 'import sys' 2>/dev/null; then
    python3 -m venv "$venv" || {
        echo "tools/test.sh: could not create a Python venv; install it with: sudo apt-get install -y python3-venv" >&2
        exit 1
    }
fi
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$wanted" ]; then
    echo "tools/test.sh: installing the test clients ($requirements) into $venv" >&2
    "$venv/bin/python3" -m pip install -q --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$venv/.requirements.sha256"
fi
export PATH="$PWD/$venv/bin:$PATH"

# argusd itself too: some tests run the real binary (SIGTERM, kill -9 + restart).
swift build --product argusd
swift test --parallel "$@"

# The dashboard in a real browser (full runs only, not with --filter): headless Chromium driven by Playwright
# against `argusd demo`, built in release like the README's first command (explanations re-run the model
# hundreds of times; a debug build takes minutes per explanation). Debian's `chromium` package provides
# /usr/bin/chromium (.ci/run installs it; without it the browser test is skipped unless ARGUS_REQUIRE_BROWSER=1).
if [ "$#" -eq 0 ]; then
    if [ -x /usr/bin/chromium ]; then
        swift build -c release --product argusd
        python3 Tests/browser/test_dashboard.py --binary .build/release/argusd
    elif [ "${ARGUS_REQUIRE_BROWSER:-0}" = "1" ]; then
        echo "tools/test.sh: /usr/bin/chromium is missing (sudo apt-get install -y chromium)" >&2
        exit 1
    else
        echo "tools/test.sh: skipping the browser test: no /usr/bin/chromium (sudo apt-get install -y chromium)" >&2
    fi
fi

# Schema-driven fuzzing (full runs only): tools/fuzz_api.sh's short deterministic Schemathesis run over every
# operation of `argusd demo` in release (about 2 minutes; docs/fuzzing.md). Fails on any failure that
# tools/fuzz-baseline.json does not list with its reason.
if [ "$#" -eq 0 ]; then
    swift build -c release --product argusd
    bash tools/fuzz_api.sh --short --binary .build/release/argusd
fi
