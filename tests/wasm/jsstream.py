"""An asyncio stream over a Node socket, so ember's connection handler runs in MicroPython's
webassembly build, which has no `socket` module.

tests/wasm/serve.mjs accepts TCP connections in Node and hands each one to `serve()` as `conn`,
whose read/write/close return JS promises; the port's asyncio can await those. Bytes cross as
base64 strings (the port turns neither bytes nor Uint8Array into the other); a reply starting with
"!" carries a Node error code instead, raised here as OSError like a real socket would.
"""

import binascii
import errno
import sys


def _ok(reply):
    if reply and reply[0] == "!":
        raise OSError(getattr(errno, reply[1:], errno.ECONNRESET))
    return reply


class JsStream:
    """The subset of MicroPython's asyncio.Stream that ember uses, as both reader and writer."""

    def __init__(self, conn):
        self._conn = conn
        self._out = []
        self._peer = (conn.host, conn.port)
        self.closed = False

    async def read(self, n):
        """Up to n bytes (fewer if fewer are waiting); b"" at EOF."""
        data = _ok(await self._conn.read(n))
        return binascii.a2b_base64(data.encode()) if data else b""

    async def readinto(self, buf):
        data = await self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def write(self, data):
        self._out.append(bytes(data))

    async def drain(self):
        if self._out:
            data = b"".join(self._out)
            self._out = []
            _ok(await self._conn.write(binascii.b2a_base64(data, newline=False).decode()))

    def close(self):
        pass

    async def wait_closed(self):
        # What was written and not drained still goes out first, as on a real stream (which
        # writes at once on MicroPython, and flushes before closing on CPython).
        try:
            await self.drain()
        except OSError:
            pass
        self.closed = True
        await self._conn.close()

    def get_extra_info(self, name):
        return {"peername": self._peer}[name]


async def serve(handle, conn):
    """Run `await handle(reader, writer)` for one connection, as asyncio.start_server would."""
    stream = JsStream(conn)
    try:
        await handle(stream, stream)
    except Exception as exc:  # noqa: BLE001 - a crashed handler must show up in the test log
        sys.print_exception(exc)
    if not stream.closed:
        print("ember-wasm: handler returned without closing the connection", file=sys.stderr)
        await conn.close()
