"""In-process test cases (through `ember.testing`) on every runtime, from one test file.

A test file written this way holds its app and `async def case_<name>()` coroutines, written for
MicroPython (no pytest, no CPython-only modules). It starts with

    try:
        import pytest
    except ImportError:  # MicroPython: tests/run_cases.py runs the cases
        pytest = None
    else:
        import inprocess  # puts modules/ on sys.path, for `import ember` below

        pytestmark = pytest.mark.integration

and ends with

    if pytest is not None:
        test_case = inprocess.cases_test(globals())

`cases_test` makes one pytest item per case (`test_case[<name>]`). On CPython (the default
runtime) each item runs its coroutine right here, with `asyncio.run`. With EMBER_RUNTIME=unix or
wasm, the whole file runs once in that runtime (tests/run_cases.py under the unix `micropython`
binary, or tests/wasm/cases.mjs in Node), and each item reports its own case from that run: its
pass, or its traceback and output."""

import asyncio
import subprocess
import sys

import pytest

from conftest import ROOT, RUNTIME, micropython_command

if str(ROOT / "modules") not in sys.path:
    sys.path.insert(0, str(ROOT / "modules"))

_runs = {}  # test file -> {case: (passed, output)}, "" -> the whole output


def cases_test(namespace):
    names = sorted(n[5:] for n in namespace if n.startswith("case_"))
    path = namespace["__file__"]

    @pytest.mark.parametrize("case", names)
    def test_case(case):
        if RUNTIME == "cpython":
            asyncio.run(asyncio.wait_for(namespace["case_" + case](), 60))
            return
        results = _run(path)
        if case not in results:
            pytest.fail("case %s never reported on %s:\n%s" % (case, RUNTIME, results[""]))
        passed, output = results[case]
        assert passed, "case %s failed on %s:\n%s" % (case, RUNTIME, output)

    return test_case


def _command(path):
    if RUNTIME == "unix":
        return micropython_command(ROOT / "tests" / "run_cases.py", path)
    if RUNTIME == "wasm":
        if not (ROOT / "node_modules" / "@micropython").is_dir():
            pytest.skip("skipped: webassembly MicroPython not installed (npm ci)")
        return ["node", str(ROOT / "tests" / "wasm" / "cases.mjs"), str(path)], None
    raise RuntimeError("unknown EMBER_RUNTIME %r" % RUNTIME)


def _run(path):
    """Run every case of the file `path` in the runtime once; {case: (passed, output)}."""
    if path not in _runs:
        cmd, env = _command(path)
        try:
            proc = subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT
            )
            output = proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as e:
            output = "timed out after 600 s\n%s" % (e.stdout or "")
        results = {"": output}
        case = None
        lines = []
        for line in output.splitlines():
            if line.startswith("CASE START "):
                case = line[11:].strip()
                lines = []
            elif line.startswith("CASE PASS ") or line.startswith("CASE FAIL "):
                results[line[10:].strip()] = (line.startswith("CASE PASS"), "\n".join(lines))
                case = None
            elif case is not None:
                lines.append(line)
        if case is not None:  # the runner died inside this case
            results[case] = (False, "\n".join(lines) + "\n(the runner stopped here)\n" + output)
        _runs[path] = results
    return _runs[path]
