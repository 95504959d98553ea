"""The listening socket: connection slots, an accept loop that survives MemoryError, admission
control, timeouts.

MicroPython's `asyncio.start_server` accept task dies when `Stream()` or `create_task` raise
MemoryError under load, and never accepts again. This loop uses only the public asyncio API: it
waits for the listening socket to become readable through a `Stream` read (which fails with
ENOTCONN on a listening socket, by then telling us a connection is pending) and accepts itself.

Each connection slot (a `Connection` with its buffer) has one worker task for the life of the
server, made at start while the heap is still in one piece: a connection then costs only its
socket and stream objects, never a large allocation in a fragmented heap. An idle worker sleeps;
the accept loop hands it a connection and wakes it with `cancel()`."""

import asyncio
import socket

from .connection import Connection
from .protocol import serve_connection
from .runtime import MICROPYTHON, collect, mem_free, print_exception, sleep_ms, ticks_diff, ticks_ms

# Loads asyncio's stream module (on MicroPython) with ember's, before the slots are allocated.
_Stream = asyncio.StreamReader


class Server:
    def __init__(self, app, host, port):
        self.app = app
        self.slots = []
        self.task = None  # the one running `run()`; cancelling it stops the server
        self.stopped = False
        addr = socket.getaddrinfo(host, port)[0][-1]
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(app.backlog)
        sock.setblocking(False)
        self.sock = sock
        if MICROPYTHON:
            self._waiter = _Stream(sock)
            self._probe = bytearray(1)
        self.port = sock.getsockname()[1] if hasattr(sock, "getsockname") else port

    async def run(self, ready=None):
        """Make the slots, call `ready(port)`, accept until `stop()`; then close the listener and
        every open connection."""
        app = self.app
        self.task = asyncio.current_task()
        self._open_slots()
        watchdog = asyncio.create_task(self._watchdog())
        if ready is not None:
            ready(self.port)
        accept = self._accept_micropython if MICROPYTHON else self._accept_cpython
        try:
            while True:
                try:
                    conn = self._idle_slot()
                    if conn is None:
                        # At the cap: stop accepting; the listen backlog holds new clients.
                        # (Polling, not an Event: asyncio's event module costs 1.3 KB of heap.)
                        await sleep_ms(10)
                        continue
                    if mem_free() < app.min_free and self._busy():
                        collect()
                        if mem_free() < app.min_free:  # keep a reserve, don't run the heap dry
                            await sleep_ms(20)
                            continue
                    await accept(conn)
                except MemoryError:
                    collect()
                    await sleep_ms(20)
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # never let the accept loop die
                    print_exception(e)
                    await sleep_ms(100)
        except asyncio.CancelledError:
            if not self.stopped:  # cancelled from outside, not by stop()
                raise
            if not MICROPYTHON:
                self.task.uncancel()
        finally:
            self.stopped = True
            watchdog.cancel()
            self.sock.close()
            for conn in self.slots:
                conn.task.cancel()
            for conn in self.slots:
                while not conn.task.done():
                    await sleep_ms(10)

    def stop(self):
        self.stopped = True
        self.task.cancel()

    def _open_slots(self):
        """`max_connections` slots, each a Connection (with its buffer) and a worker task, made
        once; fewer when the heap is short (MicroPython): a slot is made only if it leaves free
        `min_free`, plus `max_head` for each slot's connection to work with."""
        app = self.app
        slots = self.slots
        collect()
        before = mem_free()
        while len(slots) < app.max_connections:
            try:
                conn = Connection(app, bytearray(app.max_head))
                conn.task = asyncio.create_task(serve_connection(app, conn, self))
            except MemoryError:
                if not slots:
                    raise
                break
            slots.append(conn)
            collect()
            free = mem_free()
            cost = before - free  # another slot will take about as much
            before = free
            if free - cost < app.min_free + (len(slots) + 1) * app.max_head:
                break
        if len(slots) < app.max_connections:
            print("ember: heap for %d of %d connections" % (len(slots), app.max_connections))

    def _idle_slot(self):
        for conn in self.slots:
            if conn.idle:
                return conn
        return None

    def _busy(self):
        """Whether a connection is open: below `min_free`, a new one waits only for it."""
        for conn in self.slots:
            if not conn.idle:
                return True
        return False

    async def _accept_micropython(self, conn):
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
            stream = _Stream(s, {"peername": peer})
            self._admit(conn, stream, stream, s)
        except BaseException:
            s.close()
            raise

    def _admit(self, conn, reader, writer, sock):
        """Hand the connection to the slot's worker, and wake it."""
        conn.reset(reader, writer, sock)
        conn.idle = False
        conn.task.cancel()

    # -- timeouts --
    async def _watchdog(self):
        """Cancel connections whose current read or write has passed its deadline.

        Allocates nothing: were it to die of a MemoryError, stalled connections would hold
        their slots for ever."""
        app = self.app
        tick = min(app.header_ms, app.idle_ms, app.io_ms) // 4
        tick = 50 if tick < 50 else 1000 if tick > 1000 else tick
        while True:
            await sleep_ms(tick)
            now = ticks_ms()
            for conn in self.slots:
                d = conn.deadline
                if d is not None and ticks_diff(d, now) <= 0:
                    conn.deadline = None
                    conn.timed_out = True
                    conn.task.cancel()


if not MICROPYTHON:  # CPython's accept path, not even defined on a device

    async def _accept_cpython(self, conn):
        loop = asyncio.get_running_loop()
        s, _ = await loop.sock_accept(self.sock)
        reader, writer = await asyncio.open_connection(sock=s, limit=self.app.max_head)
        try:
            self._admit(conn, _CPythonReader(reader), writer, None)
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
