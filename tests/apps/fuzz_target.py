# What bench/fuzz.py (and tests/test_fuzz.py) throws mutated requests at: a route for each parser
# (query, headers, cookies, bodies: whole, JSON, form, streamed, multipart; Range on static files;
# Basic auth; WebSocket frames; an event stream; a streamed response), small limits so mutated
# lengths cross them. Its handlers never raise on their own: a 500 or a printed traceback means
# ember failed. `/__slots` (under ember's listener) lists connection slots left held.
#
# `app` has no hooks (the protocol's fast path); `hooked` has the same routes behind CORS and a
# before-request hook (the general path). In-process the fuzzer uses both; a server runs `app`.
import ember
from ember.auth import basic_auth
from ember.cors import CORS
from ember.multipart import parts
from ember.sse import with_sse
from ember.websocket import with_websocket

LIMITS = {
    "max_connections": 4,
    "max_head": 512,
    "max_request_line": 256,
    "max_header_line": 256,
    "max_headers": 16,
    "max_body": 1024,
    # Longer than the fuzzer's own per-case timeout (2 s): a hang is reported as one, not ended
    # quietly by the server's watchdog.
    "header_timeout": 5,
    "idle_timeout": 5,
    "io_timeout": 5,
}


def count(n):
    for i in range(n):
        yield "%d\n" % i


def held_slots(req):
    """`/__slots`: the connection slots of ember's listener, other than this request's, that are
    busy or were not reset (reads ember's internals: a slot is a Connection)."""
    held = []
    for conn in req.app.server.slots:
        if conn is req.conn:
            continue
        if not conn.idle:
            held.append("busy")
        elif conn.start or conn.end or conn.reader is not None or conn.deadline is not None:
            held.append("idle but not reset: start %d end %d" % (conn.start, conn.end))
    return {"slots": len(req.app.server.slots), "held": held}


def make_app(hooks):
    app = ember.App(__name__, **LIMITS)

    @app.get("/")
    def index(req):
        return "hello"

    @app.get("/json")
    def json_route(req):
        return {"a": [1, 2, None], "b": "é"}

    @app.get("/args")
    def args(req):
        return {k: req.args.getlist(k) for k in req.args}

    @app.get("/headers")
    def headers(req):
        return {
            "fields": req.headers.items(),
            "host": req.headers.get("Host"),
            "type": req.content_type,
            "cookies": req.cookies,
            "client": req.client_addr,
        }

    @app.route("/body", methods=("POST", "PUT"))
    async def body(req):
        return await req.body()

    @app.post("/json")
    async def post_json(req):
        return {"got": await req.json()}

    @app.post("/form")
    async def form(req):
        return (await req.form()).to_dict()

    @app.post("/stream")
    async def stream(req):
        buf = bytearray(100)
        n = 0
        s = req.stream()
        while True:
            k = await s.readinto(buf)
            if not k:
                return {"n": n}
            n += k

    @app.post("/upload")
    async def upload(req):
        out = []
        async for part in parts(req, max_parts=4, max_field=200, window=128):
            if part.filename is None:
                out.append([part.name, await part.text()])
            else:
                n = 0
                async for chunk in part:
                    n += len(chunk)
                out.append([part.name, part.filename, n])
        return out

    @app.put("/items/<int:n>")
    async def put_item(req, n):
        return {"n": n, "item": await req.json()}

    @app.get("/files/<path:rest>")
    def files(req, rest):
        return {"rest": rest}

    @app.get("/count")
    def counted(req):
        return ember.Response(count(req.args.get("n", 3, int) % 50))

    @app.get("/admin")
    @basic_auth({"admin": "secret"})
    def admin(req):
        return "hello " + req.user

    @app.get("/ws")
    @with_websocket(max_message=512, close_timeout=0.5, protocols=("chat",))
    async def ws_echo(req, ws):
        async for msg in ws:
            await ws.send(msg)

    @app.get("/sse")
    @with_sse(retry=100)
    async def sse(req, sse):
        for i in range(3):
            await sse.send({"i": i}, event="tick", id=i)

    app.static("/s", ".", max_age=None)  # this folder's files, for Range and conditional GETs

    app.get("/__slots")(held_slots)
    if hooks:
        CORS(app, origins=["http://a.example"], credentials=True)

        @app.before_request
        def maintenance(req):
            if req.headers.get("X-Maintenance"):
                return "down", 503

    return app


app = make_app(False)
hooked = make_app(True)
