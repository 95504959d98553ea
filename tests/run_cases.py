"""Run the in-process cases of a test file on MicroPython: `micropython tests/run_cases.py FILE`.

A case is an `async def case_<name>()` in a test file that also runs under pytest (see
tests/inprocess.py). This runs each one, in name order, under a timeout, and prints one line per
case for the host to read:

    CASE START <name>
    ...anything the case printed, and a traceback if it failed...
    CASE PASS <name>   |   CASE FAIL <name>
    CASES DONE <count>

The file's `teardown_module()`, if it has one, runs last (as pytest does it). The webassembly build
has no `asyncio.run` and its event loop is Node's: tests/wasm/cases.mjs starts `run_file` as a
task instead of calling `main`."""

import sys

import asyncio

TIMEOUT = 30  # seconds per case; the test client's own timeouts (5 s) fire first


async def _call(fn):
    await fn()  # wait_for wants a coroutine; on webassembly some awaitables are JS promises


async def run_file(path):
    ns = {"__name__": "cases", "__file__": path}
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), ns)  # tracebacks name the file
    names = sorted([name for name in ns if name.startswith("case_")])
    for name in names:
        print("CASE START %s" % name[5:])
        try:
            await asyncio.wait_for(_call(ns[name]), TIMEOUT)
        except Exception as e:  # noqa: BLE001 - every failure is reported, then the next case
            sys.print_exception(e, sys.stdout)
            print("CASE FAIL %s" % name[5:])
        else:
            print("CASE PASS %s" % name[5:])
    teardown = ns.get("teardown_module")
    if teardown is not None:
        teardown()
    print("CASES DONE %d" % len(names))


def main():
    asyncio.run(run_file(sys.argv[1]))


if __name__ == "__main__":
    main()
