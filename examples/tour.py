"""A tour of ember's core: routes and parameters, what handlers return, the request, streaming,
errors and hooks, limits, and serving alongside other tasks.

    PYTHONPATH=modules python examples/tour.py      # or freeze it: ./build.sh unix --app ...
    curl 'localhost:8080/sensors/3?unit=F'"""

import asyncio

import ember
from ember import Response

# Limits are keyword arguments; these are the defaults except max_body.
app = ember.App(max_connections=8, max_head=1024, max_body=4096, idle_timeout=15)
readings = {1: 21.5, 2: 19.0, 3: 23.25}


@app.get("/sensors/<int:n>")
def sensor(req, n):
    if n not in readings:
        ember.abort(404, "no such sensor")
    value = readings[n]
    if req.args.get("unit") == "F":
        value = value * 9 / 5 + 32
    return {"sensor": n, "value": value}


@app.put("/sensors/<int:n>")
async def set_sensor(req, n):
    data = await req.json()  # 400 if not JSON, 413 beyond max_body
    readings[n] = float(data["value"])
    return "", 204


@app.post("/firmware")
async def upload(req):
    # Bodies larger than RAM: read them in pieces (here only counted; an OTA writes to flash).
    size = 0
    async for chunk in req.stream():
        size += len(chunk)
    return {"received": size}


def countdown(n):
    for i in range(n, 0, -1):
        yield "%d\n" % i


@app.get("/countdown")
def stream(req):
    return Response(countdown(5), content_type="text/plain")  # chunked on HTTP/1.1


@app.get("/old")
def old(req):
    return ember.redirect("/sensors/1", 301)


@app.before_request
def tag_request(req):
    if req.headers.get("X-Maintenance"):
        return "down for maintenance", 503


@app.errorhandler(404)
def not_found(req, exc):
    return {"error": exc.reason, "path": req.path}, 404


async def main():
    # serve() runs alongside the device's other tasks; app.shutdown() ends it.
    asyncio.create_task(app.serve("0.0.0.0", 8080))
    while True:
        await asyncio.sleep(60)


if __name__ == "__main__":
    asyncio.run(main())
