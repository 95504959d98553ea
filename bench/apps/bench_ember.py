"""ember hello world for bench/run.py: GET / -> "Hello" (keep-alive)."""

import ember

app = ember.App()


@app.get("/")
def index(req):
    return "Hello"


def main(port, **config):
    """Serve on 127.0.0.1:port; `config` overrides App settings (e.g. max_connections=4)."""
    import bench_probe as p

    for key, value in config.items():
        setattr(app, key, value)
    app.get("/z")(lambda req: p.zero())
    app.get("/d")(lambda req: p.dump())
    app.get("/h")(lambda req: p.heap())
    app.run("127.0.0.1", port)
