"""tinyweb hello world for bench/run.py: GET / -> "Hello" (tinyweb closes after each reply)."""

import tinyweb

app = tinyweb.webserver()


@app.route("/")
async def index(req, resp):
    await resp.start_html()
    await resp.send("Hello")


def _text(fn):
    async def handler(req, resp):
        await resp.start_html()
        await resp.send(fn())

    return handler


def main(port):
    import bench_probe as p

    app.add_route("/z", _text(p.zero))
    app.add_route("/d", _text(p.dump))
    app.add_route("/h", _text(p.heap))
    app.run("127.0.0.1", port)
