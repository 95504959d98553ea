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
    # Imported as a module, as on a device, so `App(__name__)` finds its file.
    i = path.rfind("/")
    sys.path.insert(0, path[:i] if i > 0 else ".")
    name = path[i + 1 :]
    app = __import__(name[:-3] if name.endswith(".py") else name).app

    def ready(bound):
        print("EMBER READY %d" % bound)
        try:
            sys.stdout.flush()
        except AttributeError:
            pass

    asyncio.run(app.serve("127.0.0.1", port, ready=ready))


main()
