"""HTTP Basic and bearer-token auth, and CORS for a browser app on another origin.

    PYTHONPATH=modules python examples/auth_cors.py
    curl -u admin:s3cret localhost:8080/admin
    curl -H 'Authorization: Bearer t0ken-1' localhost:8080/api/status
    curl -i -X OPTIONS -H 'Origin: http://localhost:3000' \\
         -H 'Access-Control-Request-Method: PUT' localhost:8080/api/status"""

import ember
from ember.auth import basic_auth, bearer_token
from ember.cors import CORS

app = ember.App()
CORS(app, origins=["http://localhost:3000"], methods=("GET", "PUT"), credentials=True)
USERS = {"admin": "s3cret"}  # on a board: read from a config file, not frozen in


def token_owner(token):  # a check function instead of a list of tokens
    return {"t0ken-1": "sensor-1", "t0ken-2": "sensor-2"}.get(token)


@app.get("/admin")
@basic_auth(USERS, realm="ember admin")
def admin(req):
    return "hello " + req.user


@app.route("/api/status", methods=["GET", "PUT"])
@bearer_token(token_owner)
async def status(req):
    if req.method == "PUT":
        await req.json()
    return {"client": req.user, "ok": True}


if __name__ == "__main__":
    app.run("127.0.0.1", 8080)
