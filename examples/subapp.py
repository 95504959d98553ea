"""Sub-apps: an API written as its own App, mounted under a prefix with its own hooks and error
handlers (here: bearer auth for every route of the sub-app, JSON errors).

    PYTHONPATH=modules python examples/subapp.py
    curl -H 'Authorization: Bearer k' localhost:8080/api/v1/sensors/3"""

import ember
from ember.auth import check_bearer

api = ember.App()


@api.before_request
async def require_token(req):  # runs only for the sub-app's routes
    await check_bearer(req, ["k"])


@api.errorhandler(404)
def api_not_found(req, exc):
    return {"error": "not found", "path": req.path}, 404


@api.get("/sensors/<int:n>")
def sensor(req, n):
    if n > 7:
        ember.abort(404)
    return {"sensor": n, "value": 20 + n}


@api.get("/files/<path:rest>")
def files(req, rest):
    return {"path": rest}


app = ember.App()


@app.get("/")
def home(req):
    return "main app"


app.mount("/api/v1", api)

if __name__ == "__main__":
    app.run("127.0.0.1", 8080)
