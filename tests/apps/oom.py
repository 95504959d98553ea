# MemoryError injected at each stage of serving: accept, parse, handler, write.
# Each injection fires a set number of times, armed through /arm/<stage>/<count>.
import ember
from ember import connection, request, server

app = ember.App()
armed = {"accept": 0, "parse": 0, "write": 0}


def trip(stage):
    if armed[stage]:
        armed[stage] -= 1
        raise MemoryError("injected at " + stage)


_admit = server.Server._admit


def admit(self, conn, reader, writer, sock):
    trip("accept")
    return _admit(self, conn, reader, writer, sock)


server.Server._admit = admit

_request_init = request.Request.__init__


def request_init(self, conn, head):
    trip("parse")
    _request_init(self, conn, head)


request.Request.__init__ = request_init


class FailingWriter:
    """Wraps the connection's writer; its write raises when armed (the response to `/`)."""

    def __init__(self, writer):
        self.writer = writer

    def write(self, data):
        if b"alive" in data:  # not the /arm response itself
            trip("write")
        self.writer.write(data)

    async def drain(self):
        await self.writer.drain()

    def close(self):
        self.writer.close()

    async def wait_closed(self):
        await self.writer.wait_closed()

    def get_extra_info(self, name):
        return self.writer.get_extra_info(name)


class FailingSocket:
    """Wraps the listener's socket, where a plain answer is written first: the same trip."""

    def __init__(self, sock):
        self.sock = sock

    def write(self, data):
        if b"alive" in data:
            trip("write")
        return self.sock.write(data)

    def close(self):
        self.sock.close()


_conn_reset = connection.Connection.reset


def conn_reset(self, reader=None, writer=None, sock=None):
    _conn_reset(self, reader, writer and FailingWriter(writer), sock and FailingSocket(sock))


connection.Connection.reset = conn_reset


@app.get("/")
def index(req):
    return "alive"


@app.get("/arm/<stage>/<int:count>")
def arm(req, stage, count):
    armed[stage] = count
    return "armed"


@app.get("/handler")
def handler(req):
    return bytearray(1 << 46)  # a real MemoryError: 64 TiB


@app.get("/slots")
def slots(req):
    slots = app.server.slots
    return {
        "busy": sum(1 for conn in slots if not conn.idle),
        "workers": sum(1 for conn in slots if not conn.task.done()),
    }
