"""The demo app `./build.sh run` freezes and serves: a tiny device API."""

import ember

app = ember.App()
state = {"led": False, "name": "ember-demo"}


@app.get("/")
def index(req):
    return "Hello from ember!\n"


@app.get("/api/state")
def get_state(req):
    return state


@app.put("/api/state")
async def put_state(req):
    update = await req.json()
    for key in ("led", "name"):
        if key in update:
            state[key] = update[key]
    return state


@app.get("/api/hello/<name>")
def hello(req, name):
    return {"hello": name, "lang": req.args.get("lang", "en")}


if __name__ == "__main__":
    app.run("0.0.0.0", 8080)
