"""Measuring hooks shared by every bench app (frozen next to it; not part of "heap kept").

GET /z  zero marker: calls math.erf (callgrind --zero-before=mp_math_erf), then answers
        micropython.mem_total().
GET /d  dump marker: reads micropython.mem_total() (the answer), then calls math.erfc
        (callgrind --dump-before=mp_math_erfc).
GET /h  gc.collect(); answers gc.mem_alloc(): the heap in use while serving.

The bench driver measures two windows, /z /d (no request inside) and /z, N x GET /, /d, and
divides the difference by N: the cost of the markers themselves cancels out."""

import gc
from math import erf, erfc

try:
    from micropython import mem_total
except ImportError:  # CPython: no allocation counter
    def mem_total():
        return 0


def zero():
    erf(0.0)
    return str(mem_total())


def dump():
    m = mem_total()
    erfc(0.0)
    return str(m)


def heap():
    gc.collect()
    return str(gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0)


def routes(app):
    """GET /z, /d and /h on `app`, an ember or microdot app (`app.get(path)` is a decorator)."""
    app.get("/z")(lambda req: zero())
    app.get("/d")(lambda req: dump())
    app.get("/h")(lambda req: heap())
