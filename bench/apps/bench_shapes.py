"""Handler shapes of one hello world for bench/run.py: every route answers "Hello", written the
ways an app writes a handler (def or async def; reading the method, the path, a query argument,
a header or a path parameter). Frozen into ember's bench binary beside bench_ember; the bench
measures each path against the bare asyncio floor (issue 15: every shape within 2x of it)."""

import ember

app = ember.App()


@app.get("/def")
def plain(req):
    return "Hello"


@app.get("/async")
async def plain_async(req):
    return "Hello"


@app.get("/method")
def method(req):
    return "Hello" if req.method == "GET" else "?"


@app.get("/method-async")
async def method_async(req):
    return "Hello" if req.method == "GET" else "?"


@app.get("/path")
def path(req):
    return "Hello" if req.path == "/path" else "?"


@app.get("/path-async")
async def path_async(req):
    return "Hello" if req.path == "/path-async" else "?"


@app.get("/args")  # GET /args?name=Hello
def args(req):
    return req.args.get("name", "?")


@app.get("/args-async")
async def args_async(req):
    return req.args.get("name", "?")


@app.get("/header")
def header(req):
    return "Hello" if req.headers.get("Host") else "?"


@app.get("/header-async")
async def header_async(req):
    return "Hello" if req.headers.get("Host") else "?"


@app.get("/param/<name>")  # GET /param/Hello
def param(req, name):
    return name


@app.get("/param-async/<name>")
async def param_async(req, name):
    return name


def main(port):
    import bench_probe

    bench_probe.routes(app)
    app.run("127.0.0.1", port)
