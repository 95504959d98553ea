# A server with the faults bench/fuzz.py must report (tests/test_fuzz.py): a handler that raises,
# one that never answers, one that leaves a task running.
import asyncio

import ember
from fuzz_target import held_slots

app = ember.App(max_connections=4, header_timeout=30, idle_timeout=30, io_timeout=30)
app.get("/__slots")(held_slots)


@app.get("/")
def index(req):
    return "hello"


@app.get("/raise")
def fails(req):
    return {}["missing"]


@app.get("/hang")
async def hangs(req):
    await asyncio.sleep(3)  # ignores the client's EOF: its slot stays busy
    return "late"


@app.get("/leak")
def leaks(req):
    asyncio.create_task(asyncio.sleep(3))  # outlives the request
    return "ok"


@app.get("/spin")
def spins(req):
    while True:  # never awaits: only the fuzzer's alarm gets it out (in-process)
        pass
