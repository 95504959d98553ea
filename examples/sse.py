# Server-Sent Events: a counter the browser's EventSource follows, resuming where it left off.
#   python examples/sse.py   (or freeze it), then: curl -N http://127.0.0.1:8080/events
import asyncio

import ember
from ember.sse import with_sse

app = ember.App()
listeners = {"now": 0}


@app.get("/events")
@with_sse(keepalive=15, retry=2000)
async def events(req, sse):
    n = int(sse.last_event_id or 0)  # a reconnecting EventSource sends the last id it saw
    listeners["now"] += 1
    try:
        while True:
            n += 1
            await sse.send({"count": n}, event="tick", id=n)
            await asyncio.sleep(1)
    finally:  # the client went away: the handler is cancelled at its sleep or send
        listeners["now"] -= 1


@app.get("/listeners")
def count(req):
    return listeners


if __name__ == "__main__":
    app.run("0.0.0.0", 8080)
