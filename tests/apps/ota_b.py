"""Firmware B's app in the virtual board's update tests (tests/test_virtual_updates.py): a
firmware of its own to update to. With /crash-b on the filesystem it resets the board while
it is imported, every boot: a firmware (or app) that crashes at start."""

import os

import ember

__version__ = "app-b"

try:
    os.stat("/crash-b")
except OSError:
    pass
else:
    import machine

    machine.reset()

app = ember.App()


@app.get("/")
def index(req):
    return "B\n"
