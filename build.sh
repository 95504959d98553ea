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
    run "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[test]"
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

usage() {
    cat <<'USAGE'
usage: ./build.sh [--dry-run] COMMAND [args]
  run                  build the unix port with ember + examples/demo.py frozen, serve it on :8080
                       (CPython fallback when micropython/ is unavailable)
  test                 set up .venv and run the whole test suite (what CI runs)
  unix [--app PATH]    build the unix port with ember and the app frozen in (build/unix/micropython)
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
        help|-h|--help) usage ;;
        *) usage; die "unknown command: $cmd" ;;
    esac
}

main "$@"
