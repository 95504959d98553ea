"""What takes a connection over after its request: an event stream, a WebSocket.

Its handler and its own tasks (keep-alives, pings) both write: one write at a time, since
drain() is not reentrant on MicroPython. A module of its own, loaded with the first stream."""

from asyncio import Lock


class Takeover:
    def __init__(self, conn):
        self.conn = conn
        self._write_lock = Lock()

    async def _send(self, data, more=None):
        async with self._write_lock:
            await self.conn.send(data, more)

    async def _need(self, n):
        """Wait, without a deadline (a WebSocket may stay idle), until n bytes are buffered."""
        conn = self.conn
        while conn.buffered() < n:
            if await conn.fill() <= 0:
                raise EOFError
