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


async def awaited(result):
    """`result`, awaited first when it is what calling an `async def` returns: handlers, hooks
    and checks may be either kind. (The request path checks inline instead: on MicroPython this
    call allocates a frame.)"""
    if type(result) is CORO:
        return await result
    return result


def peer_address(addr):
    """(host, port) from what accept() gave: a tuple, except on the unix port (raw sockaddr)."""
    if type(addr) is tuple or addr is None:
        return addr
    import socket

    _, ip, port = socket.sockaddr(addr)
    return ("%d.%d.%d.%d" % (ip[0], ip[1], ip[2], ip[3]), port)


if MICROPYTHON:
    from gc import collect, mem_free
    from sys import print_exception
    from time import ticks_add, ticks_diff, ticks_ms

    def sleep_ms(ms):
        """asyncio's sleep for an int of ms: asyncio.sleep(seconds) allocates a float, and the
        heap may be full. (Imported here, not at load: `import ember` does not load asyncio.)"""
        from asyncio import sleep_ms

        return sleep_ms(ms)

    def format_exception(exc):
        import io

        buf = io.StringIO()
        print_exception(exc, buf)
        return buf.getvalue()

else:
    import time
    import traceback

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
