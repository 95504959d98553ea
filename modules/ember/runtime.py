"""What differs between MicroPython and CPython, in one place, so the rest of ember does not ask."""

import sys

MICROPYTHON = sys.implementation.name == "micropython"


async def _coroutine():
    pass


# What calling an `async def` returns (on MicroPython: a generator, as for any generator
# function; the two cannot be told apart there).
_probe = _coroutine()
CORO = type(_probe)
_probe.close()
del _probe, _coroutine


if MICROPYTHON:
    from gc import collect, mem_free
    from sys import print_exception
    from time import ticks_add, ticks_diff, ticks_ms

    # An int of ms: asyncio.sleep(seconds) allocates a float, and the heap may be full. (This
    # module loads with the serving code, after asyncio: `import ember` loads neither.)
    from asyncio import sleep_ms

    def format_exception(exc):
        import io

        buf = io.StringIO()
        print_exception(exc, buf)
        return buf.getvalue()

else:
    import time
    import traceback
    from inspect import isgeneratorfunction as is_generator_function  # noqa: F401 (ember.app)

    # MicroPython's tick arithmetic, wrap included, so the same code is tested on both: ticks
    # live in [0, 2**30), a deadline is ticks_add(now, ms), and ticks_diff is defined only for
    # two tick values (on a device, anything else is read as garbage: here it raises).
    _TICKS_PERIOD = 1 << 30
    _TICKS_HALF = _TICKS_PERIOD // 2

    def ticks_ms():
        return int(time.monotonic() * 1000) % _TICKS_PERIOD

    def ticks_add(ticks, delta):
        return (ticks + delta) % _TICKS_PERIOD

    def ticks_diff(a, b):
        if not (0 <= a < _TICKS_PERIOD and 0 <= b < _TICKS_PERIOD):
            raise ValueError("ticks_diff of a value that is not a tick: %r, %r" % (a, b))
        return (a - b + _TICKS_HALF) % _TICKS_PERIOD - _TICKS_HALF

    def sleep_ms(ms):
        import asyncio

        return asyncio.sleep(ms / 1000)

    def mem_free():
        return 1 << 30

    def collect():
        return None

    def print_exception(exc):
        traceback.print_exception(exc)

    def format_exception(exc):
        return "".join(traceback.format_exception(exc))
