# The app most HTTP tests talk to: one route per behaviour under test. Runs on every runtime.
import ember
from ember import Response, abort, redirect

app = ember.App(max_body=4096, debug=True, access_log=True)
stats = {"closed_streams": 0}


@app.get("/")
def index(req):
    return "hello"


@app.get("/async")
async def async_index(req):
    return "hello async"


@app.get("/bytes")
def raw_bytes(req):
    return b"\x00\x01binary"


@app.get("/json")
def json_dict(req):
    return {"a": 1, "b": [1, 2]}


@app.get("/list")
def json_list(req):
    return [1, "two", None]


@app.get("/tuple")
def as_tuple(req):
    return "created", 201


@app.get("/tuple3")
def as_tuple3(req):
    return "teapot", 418, {"X-Kind": "teapot"}


@app.get("/response")
def response(req):
    return Response(b"<p>hi</p>", 202, {"X-One": "1"}, content_type="text/html")


@app.get("/none")
def nothing(req):
    return None


@app.get("/abort")
def aborts(req):
    abort(403, "no entry")


@app.get("/redirect")
def redirects(req):
    return redirect("/target")


@app.get("/users/<int:uid>")
def user(req, uid):
    return {"uid": uid, "type": type(uid).__name__}


@app.get("/users/<name>/posts")
def user_posts(req, name):
    return {"name": name}


@app.get("/files/<path:rest>")
def files(req, rest):
    return {"rest": rest}


@app.route("/multi", methods=["GET", "POST"])
def multi(req):
    return req.method


@app.put("/put")
def put(req):
    return "put"


@app.patch("/patch")
def patch(req):
    return "patch"


@app.delete("/delete")
def delete(req):
    return "delete"


@app.get("/echo")
def echo(req):
    return {
        "method": req.method,
        "path": req.path,
        "args": req.args.to_dict(),
        "all_a": req.args.getlist("a"),
        "x_test": req.headers.get("x-TEST"),
        "has_x": "X-Test" in req.headers,
        "cookies": req.cookies,
        "client": req.client_addr[0],
        "http11": req.http11,
    }


@app.post("/body")
async def body(req):
    data = await req.body()
    return {"len": len(data), "text": data.decode()}


@app.post("/json")
async def post_json(req):
    return {"got": await req.json()}


@app.post("/form")
async def post_form(req):
    form = await req.form()
    return form.to_dict()


@app.post("/stream")
async def stream(req):
    # Bodies larger than max_body: count and checksum them chunk by chunk.
    total = 0
    async for chunk in req.stream():
        total += len(chunk)
    return {"total": total}


@app.post("/sum")
async def sum_stream(req):
    # readinto() into a fixed buffer: the way to hash or flash an upload without holding it.
    buf = bytearray(256)
    s = req.stream()
    total = 0
    acc = 0
    while True:
        n = await s.readinto(buf)
        if not n:
            break
        total += n
        for i in range(n):
            acc = (acc + buf[i]) & 0xFFFFFFFF
    return {"total": total, "sum": acc}


def counting(n):
    try:
        for i in range(n):
            yield "line %d\n" % i
    finally:
        stats["closed_streams"] += 1


@app.get("/gen")
def gen(req):
    return Response(counting(int(req.args.get("n", "5"))))


@app.get("/gen-async-handler")
async def gen_from_async(req):
    return counting(3)


class Countdown:
    """An async iterator (what works on MicroPython, which has no async generators)."""

    def __init__(self, n):
        self.n = n

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.n == 0:
            raise StopAsyncIteration
        self.n -= 1
        return b"tick %d\n" % self.n


@app.get("/aiter")
def aiter_route(req):
    return Response(Countdown(3), content_type="text/plain")


@app.get("/stats")
def get_stats(req):
    return stats


@app.get("/boom")
def boom(req):
    raise RuntimeError("kaboom")


class Teapot(Exception):
    pass


@app.get("/teapot")
def teapot(req):
    raise Teapot()


@app.errorhandler(Teapot)
def on_teapot(req, exc):
    return "short and stout", 418


@app.errorhandler(404)
def on_404(req, exc):
    return {"error": "not found", "path": req.path}, 404


@app.before_request
def before(req):
    if req.path == "/blocked":
        return "blocked by hook", 403
    req.tag = "tagged"


@app.after_request
def after(req, response):
    response.headers["X-After"] = getattr(req, "tag", "none")
    return response


@app.get("/tag")
def tag(req):
    return req.tag


@app.get("/bad-header")
def bad_header(req):
    return Response("x", 200, {"X-Evil": "a\r\nSet-Cookie: pwned=1"})


@app.get("/shutdown")
def shutdown(req):
    app.shutdown()
    return "bye"


# -- streams in the access log --------------------------------------------------------------
from ember.sse import with_sse  # noqa: E402
from ember.websocket import with_websocket  # noqa: E402


@app.get("/log/sse")
@with_sse
async def log_sse(req, sse):
    await sse.send("one")


@app.get("/log/ws")
@with_websocket
async def log_ws(req, ws):
    await ws.send(await ws.receive())


# -- handler mistakes -----------------------------------------------------------------------
@app.get("/mistake/int")
def returns_int(req):
    return 42


@app.post("/mistake/no-await")
async def forgets_await(req):
    return req.json()  # should be `await req.json()`
