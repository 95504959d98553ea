"""The fuzzer (bench/fuzz.py) in the suite: a bounded, seeded run in-process (20,000 cases through
ember.testing, CPython) and over TCP (ember's listener: CPython, and the MicroPython unix port in
the unix stage), and proof that each of its checks reports what it exists to report.

A failure prints the fuzzer's report: each failed case with its seed and index, the problem and
the bytes; `.venv/bin/python bench/fuzz.py --seed S --case I` replays one (add `--target unix`
for the socket cases)."""

import asyncio
import io
import sys

import pytest

from conftest import ROOT

if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))
import fuzz  # noqa: E402 - bench/ is not a package

SEED = 20261201
STATUSES = (
    100,
    101,
    200,
    204,
    206,
    301,
    400,
    401,
    404,
    405,
    413,
    414,
    415,
    417,
    426,
    431,
    501,
    505,
)


def report(results):
    out = io.StringIO()
    results.report(out)
    return out.getvalue()


def test_fuzz_in_process():
    results = asyncio.run(fuzz.fuzz_inprocess(fuzz.Case(SEED, i) for i in range(20000)))
    assert results.cases == 20000
    assert not results.failures, report(results)
    # The cases reach every parser: each kind of request was made, and each answer ember gives
    # when a parser accepts or refuses something came back.
    assert set(results.kinds) == {name for name, _, _ in fuzz.GENERATORS}
    missing = [s for s in STATUSES if not results.statuses.get(s)]
    assert not missing, results.statuses


@pytest.mark.integration
@pytest.mark.listener
def test_fuzz_over_sockets(serve):
    server = serve("fuzz_target")
    cases = [fuzz.Case(SEED, i, sockets=True) for i in range(1500)]
    results = fuzz.fuzz_sockets(server, cases)
    assert results.cases == 1500
    assert not results.failures, report(results)
    for status in (101, 200, 400, 413, 431):
        assert results.statuses.get(status), results.statuses
    assert fuzz.held_slots(server.port, 0) == []


def _problems(results, n):
    """{case index: " | ".join(problems)} for the n cases run."""
    found = {c.index: " | ".join(p) for c, p, _ in results.failures}
    return [found.get(i, "") for i in range(n)]


def test_fuzzer_reports_raise_hang_spin_and_leak_in_process():
    import fuzz_broken

    cases = [
        fuzz.Case.given(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", index=0),
        fuzz.Case.given(b"GET /raise HTTP/1.1\r\nHost: x\r\n\r\n", index=1),
        fuzz.Case.given(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n", index=2),
        fuzz.Case.given(b"GET /leak HTTP/1.1\r\nHost: x\r\n\r\n", index=3),
        fuzz.Case.given(b"GET /spin HTTP/1.1\r\nHost: x\r\n\r\n", index=4),
    ]
    results = asyncio.run(fuzz.fuzz_inprocess(cases, timeout=0.2, apps=[fuzz_broken.app]))
    ok, raised, hung, leaked, spun = _problems(results, 5)
    assert ok == ""
    assert "printed: Traceback" in raised and "KeyError" in raised and "answered 500" in raised
    assert hung.startswith("hang: the connection was not closed") and "handle() did not" in hung
    assert leaked.startswith("held: tasks left running")
    assert spun.startswith("hang: no await for too long")


@pytest.mark.integration
@pytest.mark.listener
def test_fuzzer_reports_raise_hang_and_held_slot_over_sockets(serve):
    server = serve("fuzz_broken")
    cases = [
        fuzz.Case.given(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", index=0),
        fuzz.Case.given(b"GET /raise HTTP/1.1\r\nHost: x\r\n\r\n", index=1),
        fuzz.Case.given(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n", index=2),
    ]
    results = fuzz.fuzz_sockets(server, cases, timeout=0.5)
    ok, raised, hung = _problems(results, 3)
    assert ok == ""
    assert "answered 500" in raised and "printed: " in raised and "Traceback" in raised
    assert hung.startswith("hang: the connection was not closed") and "['busy']" in hung
