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
usage_error() { say "build.sh: usage: $*"; exit 2; }

# need_value OPTION ARGS...: the option must be followed by a value.
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || usage_error "$1 needs a value"; }

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

# The unix port is built as the EMBER_UNIX board (its mpconfigvariant.mk holds the options).
UNIX_BUILD="$ROOT/build/unix"
UNIX_BIN="$UNIX_BUILD/micropython"

# The MicroPython the project is pinned at (the micropython/ gitlink), and the SHA-256 of its
# source archive (git archive at that commit, with lib/axtls and lib/micropython-lib filled in).
MPY_TAG=v1.28.0
MPY_COMMIT=e0e9fbb17ed6fd06bb76e266ae554784c9c80804
MPY_SRC_SHA256=f84c45455693c89411ed39944b67e98cd2fc1d2f32a415094b5e2bd059b94449
MPY_UNPACKED="$ROOT/build/micropython-src"
MPY_ENV=()  # set for a tree from the archive, which has no git metadata

venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        run python3 -m venv "$VENV"
    fi
    run "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "${ROOT}[test]"
}

micropython_present() { [ -f "$MPY_DIR/py/mpconfig.h" ]; }

# Point MPY_DIR at a MicroPython tree: the micropython/ submodule when it is checked out, else
# the archive named by $EMBER_MICROPYTHON_SRC (checked against MPY_SRC_SHA256, unpacked once under
# build/), else the submodule fetched with git. False when none of these can be had here.
find_micropython() {
    micropython_present && return 0
    local src=${EMBER_MICROPYTHON_SRC:-} sum
    if [ -n "$src" ]; then
        [ -f "$src" ] || die "EMBER_MICROPYTHON_SRC=$src: no such file"
        sum=$(sha256sum "$src" | cut -d' ' -f1)
        [ "$sum" = "$MPY_SRC_SHA256" ] \
            || die "EMBER_MICROPYTHON_SRC=$src: SHA-256 $sum, expected $MPY_SRC_SHA256 (MicroPython $MPY_TAG)"
        MPY_DIR="$MPY_UNPACKED/micropython"
        # makeversionhdr.py would otherwise describe ember's own git repository.
        MPY_ENV=(MICROPY_GIT_TAG="$MPY_TAG" MICROPY_GIT_HASH="${MPY_COMMIT:0:10}")
        if [ "$(cat "$MPY_UNPACKED/.sha256" 2>/dev/null)" != "$sum" ]; then
            run rm -rf "$MPY_UNPACKED"
            run mkdir -p "$MPY_UNPACKED"
            run tar -xJf "$src" -C "$MPY_UNPACKED"
            [ "$DRY_RUN" = 1 ] || echo "$sum" >"$MPY_UNPACKED/.sha256"
        fi
        return 0
    fi
    [ "$DRY_RUN" = 0 ] || return 1
    git -C "$ROOT" submodule update --init micropython >/dev/null 2>&1 || return 1
    micropython_present
}

need_micropython() {
    find_micropython && return 0
    if [ "$DRY_RUN" = 1 ]; then
        run git -C "$ROOT" submodule update --init micropython
        return 0
    fi
    die "no MicroPython source: micropython/ is not checked out (git submodule update --init micropython failed) and EMBER_MICROPYTHON_SRC does not name its archive (micropython-$MPY_TAG.tar.xz)"
}

cmd_unix() {
    need_micropython
    make_unix "$UNIX_BUILD"
}

# make_unix BUILD [BOARD]: a unix-port board (default EMBER_UNIX; ember and the app frozen in)
# into BUILD.
make_unix() {
    run make -C "$MPY_DIR/mpy-cross" -j"$(nproc)"
    run env "${MPY_ENV[@]}" EMBER_APP="${APP:-$ROOT/examples/demo.py}" EMBER_VERSION="$(ember_version)" \
        make -C "$MPY_DIR/ports/unix" -j"$(nproc)" VARIANT_DIR="$BOARDS_DIR/${2:-EMBER_UNIX}" BUILD="$1"
}

# virtual [launcher options]: build the EMBER_VIRTUAL board (a SIMULATION: the unix port posing
# as an ESP32, with the app frozen in) into build/EMBER_VIRTUAL and boot it until Ctrl-C, its
# flash image written from --config [--www DIR]; serial lines on stdout (ember_host.virtual).
cmd_virtual() {
    need_micropython
    host_python
    make_unix "$ROOT/build/EMBER_VIRTUAL" EMBER_VIRTUAL
    run "$HOST_PY" -m ember_host.virtual --firmware "$ROOT/build/EMBER_VIRTUAL/micropython" "$@"
}

# run: serve the app (examples/demo.py, or --app) on the frozen unix build (App.run stops
# quietly on Ctrl-C).
cmd_run() {
    local port=${PORT:-8080} app_file=${APP:-$ROOT/examples/demo.py} module script
    module=$(basename "$app_file" .py)
    script="import $module; $module.app.run('127.0.0.1', $port)"
    if find_micropython; then
        cmd_unix
        say "serving $module, frozen, on MicroPython (unix port) at http://127.0.0.1:$port"
        run "$UNIX_BIN" -c "$script"
    else
        say "no MicroPython source (micropython/ or EMBER_MICROPYTHON_SRC): serving $module on CPython $(python3 -c 'import platform; print(platform.python_version())') instead, at http://127.0.0.1:$port"
        run env PYTHONPATH="$ROOT/modules:$(dirname "$app_file")" python3 -c "$script"
    fi
}

# test: the whole suite; the unix stage and the tests that build firmware find the MicroPython
# tree in $EMBER_MPY_DIR (empty: none here, and they skip saying so).
cmd_test() {
    venv
    local mpy=""
    if find_micropython; then mpy=$MPY_DIR; fi
    run env EMBER_MPY_DIR="$mpy" "$ROOT/tests/run-all.sh" "$@"
}

# ---------------------------------------------------------------------------------------------
# Firmware: the boards in boards/ (their ember-board.json), release images, flashing, provisioning.
# Offsets and geometry are never written here: they are read from the board and release files.
# ---------------------------------------------------------------------------------------------

IDF_IMAGE=espressif/idf:v5.5.1
ESP8266_IMAGE=larsks/esp-open-sdk
ESP8266_SYSROOT="$ROOT/build/esp8266-sysroot"
ESP8266_GCC12_FLAGS="-Wno-array-bounds -fcommon -Wno-error=unused-const-variable"
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

# The first container engine that answers: a docker client without a running daemon does not count.
container_engine() {
    local engine
    for engine in docker podman; do
        if command -v "$engine" >/dev/null && "$engine" info >/dev/null 2>&1; then
            echo "$engine"
            return
        fi
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

# The ESP8266 toolchain, in order of preference: an esp-open-sdk toolchain on PATH (the SDK in its
# sysroot); Debian's bare compiler with the SDK sources the user names (tools/esp8266-sysroot.sh
# turns them into a sysroot under build/); a working docker or podman to run $ESP8266_IMAGE.
esp8266_toolchain() {
    local sysroot
    if command -v xtensa-lx106-elf-gcc >/dev/null; then
        sysroot=$(xtensa-lx106-elf-gcc -print-sysroot 2>/dev/null || true)
        if [ -n "$sysroot" ] && [ -f "$sysroot/usr/include/user_interface.h" ]; then
            echo esp-open-sdk
            return
        fi
        if [ -n "${EMBER_ESP8266_SDK_SRC:-}" ]; then
            echo debian
            return
        fi
    fi
    if [ -n "$(container_engine)" ]; then
        echo container
    elif command -v xtensa-lx106-elf-gcc >/dev/null; then
        die "EMBER_ESP8266: xtensa-lx106-elf-gcc has no ESP8266 SDK in its sysroot (Debian's bare compiler?): set EMBER_ESP8266_SDK_SRC to esp8266-sdk-src.tar.xz or to a folder of the SDK checkouts (docs/firmware.md)"
    else
        die "EMBER_ESP8266 needs the ESP8266 toolchain: no xtensa-lx106-elf-gcc on PATH, and no running docker or podman to run $ESP8266_IMAGE (or: apt-get install gcc-xtensa-lx106 binutils-xtensa-lx106 libnewlib-dev, and set EMBER_ESP8266_SDK_SRC; docs/firmware.md)"
    fi
}

# The SDK sysroot for Debian's compiler, built from $EMBER_ESP8266_SDK_SRC (an archive or a folder).
esp8266_sysroot() {
    local src=$EMBER_ESP8266_SDK_SRC kind=--archive
    [ -d "$src" ] && kind=--src
    run "$ROOT/tools/esp8266-sysroot.sh" "$kind" "$src" --out "$ESP8266_SYSROOT"
}

cmd_board() {
    local board=$1 port build version steps=()
    port=$(board_field "$board" port)
    build="$ROOT/build/$board"
    version=$(ember_version)
    APP_FILE=${APP:-$ROOT/examples/demo.py}
    [ -f "$APP_FILE" ] || die "application $APP_FILE does not exist (pass --app PATH)"
    need_micropython

    local make_env=(env "${MPY_ENV[@]}" EMBER_APP="$APP_FILE" EMBER_VERSION="$version")
    local make_args=(-C "$MPY_DIR/ports/$port" -j"$(nproc)" BOARD_DIR="$BOARDS_DIR/$board" BUILD="$build")
    steps+=("$(quote make -C "$MPY_DIR/mpy-cross")")
    if [ "$port" = unix ]; then
        make_unix "$build" "$board"
        return
    fi
    # The ESP8266 board needs only lib/axtls (btree is off): an archive tree already has it.
    if [ "$port" = esp32 ] || [ ! -f "$MPY_DIR/lib/axtls/README" ]; then
        steps+=("$(quote make -C "$MPY_DIR/ports/$port" BOARD_DIR="$BOARDS_DIR/$board" submodules)")
    fi

    if [ "$port" = esp32 ]; then
        steps+=("$(quote "${make_env[@]}" make "${make_args[@]}")")
        if command -v idf.py >/dev/null; then
            :
        elif [ -f "${IDF_PATH:-}/export.sh" ]; then
            steps=("$(quote . "$IDF_PATH/export.sh")" "${steps[@]}")
        elif [ -n "$(container_engine)" ]; then
            in_container "$IDF_IMAGE" "${steps[@]}"
            steps=()
        else
            die "$board needs ESP-IDF v5.5.1: no idf.py on PATH, no \$IDF_PATH/export.sh, and no running docker or podman to run $IDF_IMAGE"
        fi
    else
        local toolchain
        toolchain=$(esp8266_toolchain)
        if [ "$toolchain" = debian ]; then
            # The port's Makefile sets ESP_SDK with `=`: only the command line overrides it.
            # The SDK headers must be system headers, or the port's -Werror trips on them; the
            # other flags are what gcc 12 needs for this gcc-4.8-era code (docs/firmware.md).
            # esptool 5 (the project's pin) needs to be told the chip for elf2image.
            host_python
            esp8266_sysroot
            make_args+=(ESP_SDK="$ESP8266_SYSROOT/usr" "CFLAGS_EXTRA=-isystem $ESP8266_SYSROOT/usr/include $ESP8266_GCC12_FLAGS"
                "ESPTOOL=$HOST_PY -m esptool --chip esp8266")
        fi
        steps+=("$(quote "${make_env[@]}" make "${make_args[@]}")")
        if [ "$toolchain" = container ]; then
            in_container "$ESP8266_IMAGE" "${steps[@]}"
            steps=()
        fi
    fi
    local line
    for line in "${steps[@]+"${steps[@]}"}"; do run_line "$line"; done
    if [ "$port" = esp8266 ]; then
        host_python
        run "$HOST_PY" -m ember_host.imagesize "$board" --build "$build" --micropython "$MPY_DIR"
    fi
    release_step "$board"
}

# release BOARD: assemble dist/BOARD/ from build/BOARD/ (merge-bin, SHA256SUMS, manifest.json).
cmd_release() {
    [ $# -ge 1 ] || usage_error "./build.sh release BOARD"
    local board=$1
    need_micropython
    release_step "$board"
}

release_step() {
    local board=$1
    host_python
    run "$HOST_PY" -m ember_host.release "$board" --build "$ROOT/build/$board" \
        --out "$DIST/$board" --ember-version "$(ember_version)" --micropython "$MPY_DIR"
}

cmd_flash() {
    [ $# -ge 1 ] || usage_error "./build.sh flash BOARD --port PORT [--baud BAUD]"
    local board=$1 serial="" baud=460800
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
            --port) need_value "$@"; serial=$2; shift ;;
            --baud) need_value "$@"; baud=$2; shift ;;
            *) die "flash: unknown option $1" ;;
        esac
        shift
    done
    [ -n "$serial" ] || die "flash: --port PORT is required (e.g. /dev/ttyUSB0)"
    local manifest="$DIST/$board/manifest.json"
    [ -f "$manifest" ] || die "$manifest does not exist: run ./build.sh $board first"
    host_python
    # --flash-size: the ESP8266 image header says 1MB whatever the module has.
    run "$HOST_PY" -m esptool --chip "$(json_field "$manifest" chip)" --port "$serial" --baud "$baud" \
        write-flash --flash-size "$(json_field "$manifest" flash_size)" \
        "$(json_field "$manifest" firmware_offset)" "$DIST/$board/firmware.bin"
}

# repl [PORT]: the device's REPL through mpremote (PORT: /dev/ttyUSB0, id:<usb serial>, ...;
# default: the first board mpremote finds). Ctrl-] leaves it.
cmd_repl() {
    host_python
    run "$VENV/bin/mpremote" connect "${1:-auto}" repl
}

# hil [pytest options]: the hardware-in-the-loop suite, tests/hil (docs/hil.md). Without
# --hil-board it runs on the virtual board (EMBER_UNIX), built first.
cmd_hil() {
    host_python
    local a board=""
    for a in "$@"; do
        case "$a" in --hil-board|--hil-board=*) board=1 ;; esac
    done
    if [ -z "$board" ]; then
        need_micropython
        make_unix "$ROOT/build/EMBER_VIRTUAL" EMBER_VIRTUAL
        set -- --hil-board EMBER_UNIX "$@"
    fi
    run "$HOST_PY" -m pytest "$ROOT/tests/hil" "$@"
}

# check: freeze ember + the app for every board with mpy-cross (no cross compiler needed).
cmd_check() {
    if ! find_micropython; then
        say "check: skipped: no MicroPython source (micropython/ is not checked out, EMBER_MICROPYTHON_SRC is not set)"
        [ "${EMBER_STRICT:-0}" = 1 ] && die "check: EMBER_STRICT=1: a skip is a failure"
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

# update DEVICE (--release DIR | --firmware F | --app PATH): ember-update (docs/updates.md); the
# global --app is the module to send.
cmd_update() {
    host_python
    run "$HOST_PY" -m ember_host.update "$@" ${APP:+--app "$APP"}
}

is_board() { [ -f "$BOARDS_DIR/${1:-}/ember-board.json" ]; }

usage() {
    cat <<'USAGE'
usage: ./build.sh [--dry-run] COMMAND [args]
  run                  build the unix port with ember + examples/demo.py frozen, serve it on :8080
                       (CPython fallback when micropython/ is unavailable)
  test                 set up .venv and run the whole test suite (what CI runs)
  unix [--app PATH]    build the unix port with ember and the app frozen in (build/unix/micropython)
  virtual --config F [--www D] [--app PATH]
                       build the virtual board (SIMULATION: an ESP32 on the unix port, simulated
                       radio) and boot it on F's flash image; `... virtual --help` for the rest

firmware (docs/firmware.md, docs/provisioning.md):
  BOARD [--app PATH]   build boards/BOARD (EMBER_ESP32, EMBER_ESP32_S3, EMBER_ESP32_C3, EMBER_ESP8266,
                       EMBER_UNIX, EMBER_VIRTUAL) with local ESP-IDF v5.5.1 or its container;
                       output in dist/BOARD/
  release BOARD        reassemble dist/BOARD/ from build/BOARD/ (factory.bin, SHA256SUMS, manifest.json)
  flash BOARD --port P [--baud B]
                       write dist/BOARD/firmware.bin at the offset in its manifest.json
  repl [PORT]          the device's REPL (mpremote; default: the first board found)
  hil [PYTEST OPTIONS] the HIL suite tests/hil on --hil-board BOARD --hil-port P --hil-release
                       dist/BOARD, or without --hil-board on the virtual board (docs/hil.md)
  check                freeze ember + the app for every board with mpy-cross (no cross compiler)
  clean                remove build/ and dist/
  provision ARGS       ember-provision: per-device filesystem images and factory flashing
  update DEVICE --release dist/BOARD | --firmware F | --app PATH
                       ember-update: send a firmware or an app to a running device over HTTP
                       (secret from EMBER_ADMIN_SECRET or a prompt; docs/updates.md)
USAGE
}

main() {
    local args=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --dry-run) DRY_RUN=1 ;;
            --app)
                need_value "$@"
                [ -f "$2" ] || die "--app $2: no such file (from $(pwd))"
                APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
                shift ;;
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
        virtual) cmd_virtual "$@" ;;
        release) cmd_release "$@" ;;
        flash) cmd_flash "$@" ;;
        repl) cmd_repl "$@" ;;
        hil) cmd_hil "$@" ;;
        check) cmd_check "$@" ;;
        clean) cmd_clean "$@" ;;
        provision) cmd_provision "$@" ;;
        update) cmd_update "$@" ;;
        help|-h|--help) usage ;;
        *) is_board "$cmd" || { usage; die "unknown command: $cmd"; }
           cmd_board "$cmd" "$@" ;;
    esac
}

main "$@"
