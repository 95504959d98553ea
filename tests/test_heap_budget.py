"""Heap budgets, measured inside MicroPython on the unix port with ember frozen (./build.sh unix):
importing ember + the demo app keeps <= 6 KB, a keep-alive GET allocates <= 2 KB.

The unix port's pointers are 64-bit, so these are stricter than the same numbers on a device.
Measurement lives in tools/ember_host/heap.py (`python -m ember_host.heap` prints it)."""

import pytest

from conftest import unix_binary
from ember_host import heap

IMPORT_BUDGET = 6 * 1024
GET_BUDGET = 2 * 1024


@pytest.fixture(scope="module")
def binary():
    b = unix_binary()
    if b is None:
        pytest.skip("skipped: no MicroPython unix build")
    if not heap.is_frozen_build(b):
        pytest.skip(f"skipped: {b} has no frozen ember (build it with ./build.sh unix)")
    return b


def test_import_keeps_at_most_6k(binary):
    _, ember = heap.import_cost(binary)
    assert ember <= IMPORT_BUDGET, f"importing frozen ember + demo keeps {ember} B"


def test_keep_alive_get_allocates_at_most_2k(binary):
    per_get = heap.get_cost(binary, "/", n=50)
    assert per_get <= GET_BUDGET, f"a keep-alive GET / allocates {per_get:.0f} B"
