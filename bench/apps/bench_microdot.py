"""microdot hello world for bench/run.py: GET / -> "Hello" (microdot closes after each reply)."""

from microdot import Microdot

app = Microdot()


@app.get("/")
def index(req):
    return "Hello"


def main(port):
    import bench_probe as p

    app.get("/z")(lambda req: p.zero())
    app.get("/d")(lambda req: p.dump())
    app.get("/h")(lambda req: p.heap())
    app.run("127.0.0.1", port)
