"""ember hello world for bench/run.py: GET / -> "Hello" (keep-alive)."""

import ember

app = ember.App()


@app.get("/")
def index(req):
    return "Hello"


def main(port, **config):
    """Serve on 127.0.0.1:port; `config` overrides App settings (e.g. max_connections=4)."""
    import bench_probe

    for key, value in config.items():
        setattr(app, key, value)
    bench_probe.routes(app)
    app.run("127.0.0.1", port)
