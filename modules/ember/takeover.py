"""What takes a connection over after its request: an event stream, a WebSocket.

Its handler and its own tasks (keep-alives, pings) both write: one write at a time, since
drain() is not reentrant on MicroPython. A flag, not an asyncio.Lock: entering and leaving a
Lock are coroutine calls, three heap frames for every event or frame sent; writers rarely
overlap, and then the later one waits a millisecond at a time. A module of its own, loaded with
the first stream."""

from .runtime import sleep_ms


class Takeover:
    def __init__(self, conn):
        self.conn = conn
        self._writing = False

    async def _send(self, data, more=None):
        while self._writing:
            await sleep_ms(1)
        self._writing = True
        try:
            await self.conn.send(data, more)
        except OSError:  # the client went away
            self._lost()
            raise
        finally:
            self._writing = False

    async def _need(self, n):
        """Wait, without a deadline (a WebSocket may stay idle), until n bytes are buffered."""
        conn = self.conn
        while conn.buffered() < n:
            if await conn.fill() <= 0:
                raise EOFError
