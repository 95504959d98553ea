#!/usr/bin/env bash
# ember's one entry point: build, flash, test, run.  `./build.sh help` lists the commands.
# Every command accepts --dry-run, which prints the commands it would execute instead of running them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MPY_DIR="$ROOT/micropython"
VENV="$ROOT/.venv"
DRY_RUN=0

say() { printf '%s\n' "$*" >&2; }
die() { say "build.sh: $*"; exit 1; }

# run CMD...: execute, or print it (shell-quoted, one line) under --dry-run.
run() {
    if [ "$DRY_RUN" = 1 ]; then
        local out="" a
        for a in "$@"; do out+="${out:+ }$(printf '%q' "$a")"; done
        printf '%s\n' "$out"
    else
        "$@"
    fi
}

# ---------------------------------------------------------------------------------------------
# Host: Python environment, tests, the unix port.
# ---------------------------------------------------------------------------------------------

# Unix-port make flags: no berkeley-db/libffi submodules needed; axTLS gives hashlib.sha1.
UNIX_FLAGS=(MICROPY_PY_BTREE=0 MICROPY_PY_FFI=0 MICROPY_SSL_AXTLS=1 MICROPY_SSL_MBEDTLS=0)
UNIX_BUILD="$ROOT/build/unix"
UNIX_BIN="$UNIX_BUILD/micropython"

venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        run python3 -m venv "$VENV"
    fi
    run "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "${ROOT}[test]"
}

micropython_present() { [ -f "$MPY_DIR/py/mpconfig.h" ]; }

# Fill micropython/ from its submodule when it is empty; false when that cannot be done here.
fetch_micropython() {
    micropython_present && return 0
    git -C "$ROOT" submodule update --init micropython >/dev/null 2>&1 || return 1
    micropython_present
}

cmd_unix() {
    fetch_micropython || die "micropython/ is not checked out (git submodule update --init micropython failed)"
    run make -C "$MPY_DIR/mpy-cross" -j"$(nproc)"
    run env EMBER_APP="${APP:-$ROOT/examples/demo.py}" make -C "$MPY_DIR/ports/unix" -j"$(nproc)" \
        "${UNIX_FLAGS[@]}" FROZEN_MANIFEST="$ROOT/manifest.py" BUILD="$UNIX_BUILD"
}

cmd_run() {
    local port=${PORT:-8080}
    if fetch_micropython; then
        cmd_unix
        say "serving the frozen demo on MicroPython (unix port) at http://127.0.0.1:$port"
        run "$UNIX_BIN" -c "import demo; demo.app.run('127.0.0.1', $port)"
    else
        say "micropython/ is not checked out and cannot be fetched: serving the demo on CPython $(python3 -c 'import platform; print(platform.python_version())') instead, at http://127.0.0.1:$port"
        run env PYTHONPATH="$ROOT/modules:$ROOT/examples" python3 -c "import demo; demo.app.run('127.0.0.1', $port)"
    fi
}

cmd_test() {
    venv
    run "$ROOT/tests/run-all.sh" "$@"
}

# ---------------------------------------------------------------------------------------------
# Firmware: the boards in boards/ (their ember-board.json), release images, flashing, provisioning.
# Offsets and geometry are never written here: they are read from the board and release files.
# ---------------------------------------------------------------------------------------------

IDF_IMAGE=espressif/idf:v5.5.1
ESP8266_IMAGE=larsks/esp-open-sdk
BOARDS_DIR="$ROOT/boards"
DIST="${EMBER_DIST:-$ROOT/dist}"
HOST_PY="$VENV/bin/python"

# quote CMD...: one shell-quoted command line (what `run` prints under --dry-run).
quote() {
    local out="" a
    for a in "$@"; do out+="${out:+ }$(printf '%q' "$a")"; done
    printf '%s\n' "$out"
}

# run_line LINE: execute a quoted command line in this shell, or print it under --dry-run.
run_line() {
    if [ "$DRY_RUN" = 1 ]; then printf '%s\n' "$1"; else eval "$1"; fi
}

# board_field BOARD FIELD: one value from boards/BOARD/ember-board.json (stdlib-only loader).
board_field() {
    PYTHONPATH="$ROOT/tools" python3 -m ember_host.boards "$1" "$2" || exit 1
}

# json_field FILE KEY: one top-level value from a release manifest.json.
json_field() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# The version frozen into the firmware and written to its manifest (EMBER_VERSION overrides).
ember_version() {
    if [ -n "${EMBER_VERSION:-}" ]; then
        echo "$EMBER_VERSION"
    else
        git -C "$ROOT" describe --tags --always --dirty 2>/dev/null || echo unknown
    fi
}

host_python() { [ -x "$HOST_PY" ] || venv; }

container_engine() {
    local engine
    for engine in docker podman; do
        if command -v "$engine" >/dev/null; then echo "$engine"; return; fi
    done
}

# in_container IMAGE LINE...: run the quoted lines in one container, with the repo mounted at its
# own path (and the app's directory when it lives elsewhere), as the calling user.
in_container() {
    local image=$1 engine script mounts=(-v "$ROOT:$ROOT")
    shift
    engine=$(container_engine)
    case "$APP_FILE" in "$ROOT"/*) ;; *) mounts+=(-v "$(dirname "$APP_FILE"):$(dirname "$APP_FILE"):ro") ;; esac
    script="git config --global --add safe.directory '*'"
    local line
    for line in "$@"; do script+=" && $line"; done
    run "$engine" run --rm "${mounts[@]}" -w "$ROOT" --user "$(id -u):$(id -g)" -e HOME=/tmp \
        "$image" bash -c "$script"
}

cmd_board() {
    local board=$1 port build version steps=()
    port=$(board_field "$board" port)
    build="$ROOT/build/$board"
    version=$(ember_version)
    APP_FILE=${APP:-$ROOT/examples/demo.py}
    [ -f "$APP_FILE" ] || die "application $APP_FILE does not exist (pass --app PATH)"
    if [ "$DRY_RUN" = 1 ] && ! micropython_present; then
        run git -C "$ROOT" submodule update --init micropython
    else
        fetch_micropython || die "micropython/ is not checked out (git submodule update --init micropython failed)"
    fi

    local make_env=(env EMBER_APP="$APP_FILE" EMBER_VERSION="$version")
    steps+=("$(quote make -C "$MPY_DIR/mpy-cross")")
    if [ "$port" = unix ]; then
        run_line "${steps[0]}"
        run "${make_env[@]}" make -C "$MPY_DIR/ports/unix" -j"$(nproc)" "${UNIX_FLAGS[@]}" \
            VARIANT_DIR="$BOARDS_DIR/$board" BUILD="$build"
        return
    fi
    steps+=("$(quote make -C "$MPY_DIR/ports/$port" BOARD_DIR="$BOARDS_DIR/$board" submodules)")
    steps+=("$(quote "${make_env[@]}" make -C "$MPY_DIR/ports/$port" -j"$(nproc)" \
        BOARD_DIR="$BOARDS_DIR/$board" BUILD="$build")")

    if [ "$port" = esp32 ]; then
        if command -v idf.py >/dev/null; then
            :
        elif [ -f "${IDF_PATH:-}/export.sh" ]; then
            steps=("$(quote . "$IDF_PATH/export.sh")" "${steps[@]}")
        elif [ -n "$(container_engine)" ]; then
            in_container "$IDF_IMAGE" "${steps[@]}"
            steps=()
        else
            die "$board needs ESP-IDF v5.5.1: no idf.py on PATH, no \$IDF_PATH/export.sh, and neither docker nor podman to run $IDF_IMAGE"
        fi
    elif command -v xtensa-lx106-elf-gcc >/dev/null; then
        :
    elif [ -n "$(container_engine)" ]; then
        in_container "$ESP8266_IMAGE" "${steps[@]}"
        steps=()
    else
        die "$board needs the ESP8266 toolchain: no xtensa-lx106-elf-gcc on PATH, and neither docker nor podman to run $ESP8266_IMAGE"
    fi
    local line
    for line in "${steps[@]+"${steps[@]}"}"; do run_line "$line"; done
    cmd_release "$board"
}

# release BOARD: assemble dist/BOARD/ from build/BOARD/ (merge-bin, SHA256SUMS, manifest.json).
cmd_release() {
    local board=${1:?usage: ./build.sh release BOARD}
    host_python
    run "$HOST_PY" -m ember_host.release "$board" --build "$ROOT/build/$board" \
        --out "$DIST/$board" --ember-version "$(ember_version)"
}

cmd_flash() {
    local board=${1:?usage: ./build.sh flash BOARD --port PORT [--baud BAUD]} serial="" baud=460800
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
            --port) serial=$2; shift ;;
            --baud) baud=$2; shift ;;
            *) die "flash: unknown option $1" ;;
        esac
        shift
    done
    [ -n "$serial" ] || die "flash: --port PORT is required (e.g. /dev/ttyUSB0)"
    local manifest="$DIST/$board/manifest.json"
    [ -f "$manifest" ] || die "$manifest does not exist: run ./build.sh $board first"
    host_python
    run "$HOST_PY" -m esptool --chip "$(json_field "$manifest" chip)" --port "$serial" --baud "$baud" \
        write-flash "$(json_field "$manifest" firmware_offset)" "$DIST/$board/firmware.bin"
}

# check: freeze ember + the app for every board with mpy-cross (no cross compiler needed).
cmd_check() {
    if ! micropython_present; then
        say "check: skipped: micropython/ is not checked out (git submodule update --init micropython)"
        return 0
    fi
    local board port arch out
    run make -C "$MPY_DIR/mpy-cross"
    for board in $(PYTHONPATH="$ROOT/tools" python3 -m ember_host.boards); do
        port=$(board_field "$board" port)
        arch=$(board_field "$board" mpy_cross_arch)
        out="$ROOT/build/check/$board"
        run mkdir -p "$out/genhdr"
        run cp "$MPY_DIR/mpy-cross/build/genhdr/qstrdefs.preprocessed.h" "$out/genhdr/"
        run env EMBER_APP="${APP:-$ROOT/examples/demo.py}" EMBER_VERSION="$(ember_version)" \
            python3 "$MPY_DIR/tools/makemanifest.py" -o "$out/frozen_content.c" \
            -v MPY_DIR="$MPY_DIR" -v MPY_LIB_DIR="$MPY_DIR/lib/micropython-lib" \
            -v PORT_DIR="$MPY_DIR/ports/$port" -v BOARD_DIR="$BOARDS_DIR/$board" \
            -b "$out" --mpy-cross-flags="${arch:+-march=$arch}" --mpy-tool-flags= "$ROOT/manifest.py"
    done
}

cmd_clean() { run rm -rf "$ROOT/build" "$DIST"; }

cmd_provision() {
    host_python
    run "$HOST_PY" -m ember_host.provision "$@"
}

is_board() { [ -f "$BOARDS_DIR/${1:-}/ember-board.json" ]; }

usage() {
    cat <<'USAGE'
usage: ./build.sh [--dry-run] COMMAND [args]
  run                  build the unix port with ember + examples/demo.py frozen, serve it on :8080
                       (CPython fallback when micropython/ is unavailable)
  test                 set up .venv and run the whole test suite (what CI runs)
  unix [--app PATH]    build the unix port with ember and the app frozen in (build/unix/micropython)

firmware (docs/firmware.md, docs/provisioning.md):
  BOARD [--app PATH]   build boards/BOARD (EMBER_ESP32, EMBER_ESP32_S3, EMBER_ESP32_C3, EMBER_ESP8266,
                       EMBER_UNIX) with local ESP-IDF v5.5.1 or its container; output in dist/BOARD/
  release BOARD        reassemble dist/BOARD/ from build/BOARD/ (factory.bin, SHA256SUMS, manifest.json)
  flash BOARD --port P [--baud B]
                       write dist/BOARD/firmware.bin at the offset in its manifest.json
  check                freeze ember + the app for every board with mpy-cross (no cross compiler)
  clean                remove build/ and dist/
  provision ARGS       ember-provision: per-device filesystem images and factory flashing
USAGE
}

main() {
    local args=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --dry-run) DRY_RUN=1 ;;
            --app) APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
            *) args+=("$1") ;;
        esac
        shift
    done
    set -- "${args[@]+"${args[@]}"}"
    local cmd=${1:-help}
    [ $# -gt 0 ] && shift
    case "$cmd" in
        run) cmd_run "$@" ;;
        test) cmd_test "$@" ;;
        unix) cmd_unix "$@" ;;
        release) cmd_release "$@" ;;
        flash) cmd_flash "$@" ;;
        check) cmd_check "$@" ;;
        clean) cmd_clean "$@" ;;
        provision) cmd_provision "$@" ;;
        help|-h|--help) usage ;;
        *) is_board "$cmd" || { usage; die "unknown command: $cmd"; }
           cmd_board "$cmd" "$@" ;;
    esac
}

main "$@"
