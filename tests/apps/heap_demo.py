"""The frozen demo app plus `/__mem`, which reports `micropython.mem_total()` (bytes allocated
since start) so tests/test_heap_budget.py can measure per-request allocation inside MicroPython."""

import micropython
from demo import app


@app.get("/__mem")
def mem(req):
    return str(micropython.mem_total())
