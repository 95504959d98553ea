"""Uploads: multipart files streamed to a file (never whole in RAM), urlencoded forms, JSON.

    PYTHONPATH=modules python examples/uploads.py
    curl -F note=hi -F file=@firmware.bin http://127.0.0.1:8080/upload
    curl -d 'a=1&a=2&b=x' http://127.0.0.1:8080/form
    curl -H 'Content-Type: application/json' -d '{"n": 1}' http://127.0.0.1:8080/json

Files land in $EMBER_UPLOAD_DIR (default: the working directory, "/" on a board)."""

import binascii
import hashlib

import ember
from ember.multipart import parts

try:
    from os import getenv

    UPLOAD_DIR = getenv("EMBER_UPLOAD_DIR") or "."
except ImportError:  # no getenv on boards
    UPLOAD_DIR = "."

app = ember.App(max_body=2048)  # cap for req.body()/form()/json(), not for multipart streams


@app.post("/upload")
async def upload(req):
    fields = {}
    files = []
    async for part in parts(req, max_parts=8, max_field=256):
        if part.filename is None:
            fields[part.name] = await part.text()  # 413 over max_field
            continue
        digest = hashlib.sha256()
        size = 0
        path = "%s/upload-%d.bin" % (UPLOAD_DIR, len(files))  # never the client's filename
        with open(path, "wb") as f:
            async for chunk in part:  # at most ~512 bytes at a time
                f.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        sha = binascii.hexlify(digest.digest()).decode()
        files.append({"field": part.name, "filename": part.filename, "size": size, "sha256": sha})
    return {"fields": fields, "files": files}


@app.post("/form")
async def form(req):
    return (await req.form()).to_dict()  # 413 over max_body, 400 when malformed


@app.post("/json")
async def echo_json(req):
    return {"got": await req.json()}  # 413 over max_body, 400 when not JSON


if __name__ == "__main__":
    app.run("127.0.0.1", 8080)
