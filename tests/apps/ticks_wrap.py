# Deadlines across the wrap of the tick counter. GET /arm moves this server's clock (the
# ticks_ms ember's modules use) to 300 ms before the counter wraps; timeouts set after that have
# deadlines past the wrap, and must still fire when they are due.
import ember
from ember import connection, protocol, runtime

app = ember.App(header_timeout=1, idle_timeout=1, io_timeout=2)
PERIOD = runtime.ticks_add(0, -1) + 1  # 2**30 on a device, 2**62 on the 64-bit unix port
offset = [0]


def ticks_ms():
    return runtime.ticks_add(runtime.ticks_ms(), offset[0])


modules = [connection, protocol]  # where deadlines are set
try:
    from ember import server

    modules.append(server)
except ImportError:  # no sockets (webassembly): no listener, no watchdog
    pass
for m in modules:
    m.ticks_ms = ticks_ms


@app.get("/arm")
def arm(req):
    offset[0] = 0
    offset[0] = runtime.ticks_diff(PERIOD - 300, ticks_ms())
    return {"ticks": ticks_ms(), "period": PERIOD}


@app.get("/")
def index(req):
    return "ok"
