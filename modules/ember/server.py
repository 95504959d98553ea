"""The listening socket: an accept loop that survives MemoryError, admission control, timeouts.

MicroPython's `asyncio.start_server` accept task dies when `Stream()` or `create_task` raise
MemoryError under load, and never accepts again. This loop uses only the public asyncio API: it
waits for the listening socket to become readable through a `Stream` read (which fails with
ENOTCONN on a listening socket, by then telling us a connection is pending) and accepts itself."""

import asyncio
import socket

from .connection import Connection
from .protocol import serve_connection
from .runtime import MICROPYTHON, collect, mem_free, print_exception, ticks_diff, ticks_ms


class Server:
    def __init__(self, app, host, port, pool):
        self.app = app
        self.pool = pool  # one buffer per connection slot, allocated once (see App.serve)
        self.conns = []
        self.accepting = None  # the accept task; cancelling it stops the server
        self.stopped = False
        addr = socket.getaddrinfo(host, port)[0][-1]
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(app.backlog)
        sock.setblocking(False)
        self.sock = sock
        if MICROPYTHON:
            # Made now, while the heap is still in one piece: this loads asyncio's stream module.
            self._waiter = asyncio.StreamReader(sock)
            self._probe = bytearray(1)
        self.port = sock.getsockname()[1] if hasattr(sock, "getsockname") else port

    async def run(self):
        """Accept until `stop()`; then close the listener and every open connection."""
        self.accepting = asyncio.create_task(self._accept_loop())
        watchdog = asyncio.create_task(self._watchdog())
        try:
            await self.accepting
        except asyncio.CancelledError:
            if not self.stopped:  # cancelled from outside, not by stop()
                raise
        finally:
            self.accepting.cancel()
            watchdog.cancel()
            self.sock.close()
            for conn in list(self.conns):
                if conn.task is not None:
                    conn.task.cancel()
            while self.conns:
                await asyncio.sleep(0.01)

    def stop(self):
        self.stopped = True
        self.accepting.cancel()

    # -- accepting --
    async def _accept_loop(self):
        app = self.app
        accept = self._accept_micropython if MICROPYTHON else self._accept_cpython
        while True:
            try:
                if len(self.conns) >= app.max_connections:
                    # At the cap: stop accepting; the kernel's listen backlog holds new clients.
                    # (Polling, not an Event: asyncio's event module would cost 1.3 KB of heap.)
                    await asyncio.sleep(0.01)
                    continue
                if mem_free() < app.min_free:
                    collect()
                    if mem_free() < app.min_free:  # keep a reserve rather than run the heap dry
                        await asyncio.sleep(0.02)
                        continue
                await accept()
            except MemoryError:
                collect()
                await asyncio.sleep(0.02)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # never let the accept loop die
                print_exception(e)
                await asyncio.sleep(0.1)

    async def _accept_micropython(self):
        try:
            await self._waiter.readinto(self._probe)  # returns or raises once readable
        except OSError:
            pass
        try:
            s, peer = self.sock.accept()
        except OSError:  # EAGAIN: nothing pending after all
            return
        try:
            s.setblocking(False)
            stream = asyncio.StreamReader(s, {"peername": peer})
            self._admit(stream, stream, peer).sock = s
        except BaseException:
            s.close()
            raise

    def _admit(self, reader, writer, peer):
        """Give the new connection a buffer and a task; on MemoryError, the buffer goes back."""
        buf = self.pool.pop()
        conn = None
        try:
            conn = Connection(self.app, reader, writer, buf, peer)
            self.conns.append(conn)
            conn.task = asyncio.create_task(self._serve(conn))
        except BaseException:
            if conn in self.conns:
                self.conns.remove(conn)
            self.pool.append(buf)
            raise
        return conn

    async def _serve(self, conn):
        try:
            await serve_connection(self.app, conn)
        except asyncio.CancelledError:  # shutdown: serve_connection has closed it
            pass
        except MemoryError:  # no room even to start serving it: close it, free the slot
            collect()
            if conn.sock is not None:
                conn.sock.close()
            else:
                await conn.close()
        finally:
            self._release(conn)

    def _release(self, conn):
        self.conns.remove(conn)
        self.pool.append(conn.buf)

    # -- timeouts --
    async def _watchdog(self):
        """Cancel connections whose current read or write has passed its deadline."""
        app = self.app
        tick = min(app.header_ms, app.idle_ms, app.io_ms) / 4000
        tick = 0.05 if tick < 0.05 else 1.0 if tick > 1.0 else tick
        while True:
            await asyncio.sleep(tick)
            now = ticks_ms()
            for conn in self.conns:
                d = conn.deadline
                if d is not None and ticks_diff(d, now) <= 0 and conn.task is not None:
                    conn.deadline = None
                    conn.timed_out = True
                    conn.task.cancel()


if not MICROPYTHON:  # CPython's accept path, not even defined on a device

    async def _accept_cpython(self):
        loop = asyncio.get_running_loop()
        s, peer = await loop.sock_accept(self.sock)
        reader, writer = await asyncio.open_connection(sock=s, limit=self.app.max_head)
        try:
            self._admit(_CPythonReader(reader), writer, peer)
        except BaseException:
            writer.close()
            raise

    Server._accept_cpython = _accept_cpython

    class _CPythonReader:
        """CPython's StreamReader has no `readinto`; this is the one method ember needs from it."""

        def __init__(self, reader):
            self.reader = reader

        async def readinto(self, buf):
            data = await self.reader.read(len(buf))
            n = len(data)
            buf[:n] = data
            return n
