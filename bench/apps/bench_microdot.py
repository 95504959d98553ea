"""microdot hello world for bench/run.py: GET / -> "Hello" (microdot closes after each reply)."""

from microdot import Microdot

app = Microdot()


@app.get("/")
def index(req):
    return "Hello"


def main(port):
    import bench_probe

    bench_probe.routes(app)
    app.run("127.0.0.1", port)
