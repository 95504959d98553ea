"""Cost per request of one path: interpreter instructions (callgrind) and bytes allocated
(micropython.mem_total()), each over a window of N requests minus an empty window, so that what
the markers themselves cost (bench_probe's GET /z and GET /d) cancels out."""

import callgrind
from client import Client, hello
from process import free_port, start

# Handler shapes of one hello world (issue 15: each within 2x the bare asyncio floor), served by
# bench/apps/bench_shapes.py from ember's binary: (GET target, the handler in the table).
SHAPES = [
    ("/def", '`def`, returns "Hello"'),
    ("/async", '`async def`, returns "Hello"'),
    ("/method", "`def`, reads `req.method`"),
    ("/method-async", "`async def`, reads `req.method`"),
    ("/path", "`def`, reads `req.path`"),
    ("/path-async", "`async def`, reads `req.path`"),
    ("/args?name=Hello", '`def`, returns `req.args.get("name")`'),
    ("/args-async?name=Hello", '`async def`, returns `req.args.get("name")`'),
    ("/header", '`def`, reads `req.headers.get("Host")`'),
    ("/header-async", '`async def`, reads `req.headers.get("Host")`'),
    ("/param/Hello", "`def`, returns path parameter `<name>`"),
    ("/param-async/Hello", "`async def`, returns path parameter `<name>`"),
]


def windows(client, path, n, warm):
    """Warm up on `path`, collect (GET /h, the heap in use while serving), then window A
    (/z, /d) and window B (/z, n x `path`, /d), reading mem_total at each marker."""
    connections = client.connections
    for _ in range(warm):
        version, close = hello(client, path)
    heap_serving = int(client.get("/h")[1])
    a0 = int(client.get("/z")[1])
    a1 = int(client.get("/d")[1])
    b0 = int(client.get("/z")[1])
    for _ in range(n):
        hello(client, path)
    b1 = int(client.get("/d")[1])
    return {"alloc_per_req": ((b1 - b0) - (a1 - a0)) / n, "heap_serving": heap_serving,
            "http": version, "closes": close, "connections": client.connections - connections}


def measure(s, paths, n, warm, workdir=None, app=None, tag=None):
    """windows() for each path in turn, in one run of `app` (default: s's own) on s's binary;
    under callgrind when `workdir` is given (dumps there, named after `tag`, default s.name),
    which adds each path's instructions per request. [result per path]"""
    port = free_port()
    wrap, timeout = (), 20
    if workdir:
        out = workdir / ("callgrind." + (tag or s.name))
        wrap, timeout = callgrind.command(out), 120
    p, ok = start(s, port, wrap=wrap, timeout=timeout, app=app)
    if not ok:
        p.stop()
        error = "did not start" + (" under valgrind: " if workdir else ": ") + p.output()[-500:]
        return [{"error": error} for _ in paths]
    try:
        c = Client(port)
        results = [windows(c, path, n, warm) for path in paths]
        c.close()
    finally:
        p.stop()
    if workdir:
        dumps = callgrind.dumps(out)
        for i, res in enumerate(results):
            if len(dumps) < 2 * i + 2:
                res["error"] = "callgrind wrote %d dumps" % len(dumps)
                continue
            a, b = dumps[2 * i], dumps[2 * i + 1]
            res["instr_per_req"] = (callgrind.total(b) - callgrind.total(a)) / n
            res["callgrind_files"] = [str(a), str(b)]
    return results


def probe(s, n, warm, workdir=None):
    """s's hello world, GET /; under callgrind also its costliest functions per request."""
    res = measure(s, ["/"], n, warm, workdir)[0]
    if "callgrind_files" in res:
        res["top_functions"] = callgrind.top_functions(*res["callgrind_files"], n)
    return res


def shapes(s, n, warm, workdir=None):
    """Every SHAPES path, in one run of bench_shapes on ember's binary."""
    res = measure(s, [path for path, _ in SHAPES], n, warm, workdir, app="bench_shapes",
                  tag=s.name + "-shapes")
    return [{"path": path, "shape": shape, **r}
            for (path, shape), r in zip(SHAPES, res, strict=True)]
