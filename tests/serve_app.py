"""Serve a test app on 127.0.0.1 (CPython or MicroPython): `serve_app.py APP_FILE PORT`.

Prints `EMBER READY <port>` once listening; the test harness waits for that line."""

import sys

try:
    import asyncio
except ImportError:
    import uasyncio as asyncio


def main():
    path, port = sys.argv[1], int(sys.argv[2])
    # Load asyncio's stream module before compiling the app: on a device the app is frozen, but
    # here its source is compiled in the heap, which fragments it for later large allocations.
    _ = asyncio.StreamReader
    ns = {"__name__": "ember_test_app", "__file__": path}
    with open(path) as f:
        exec(f.read(), ns)
    app = ns["app"]

    def ready(bound):
        print("EMBER READY %d" % bound)
        try:
            sys.stdout.flush()
        except AttributeError:
            pass

    asyncio.run(app.serve("127.0.0.1", port, ready=ready))


main()
