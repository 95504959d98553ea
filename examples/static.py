"""Static files: a directory served at /static, with gzip siblings, ETag/304, Range, index.html.

    PYTHONPATH=modules python examples/static.py      # then open http://127.0.0.1:8080/static/

On a board, copy examples/static_www to the filesystem (`mpremote cp -r`) and set WWW to it.
Pre-compress big assets on the host (`gzip -k9 app.js`): the `.gz` sibling is sent to clients
that accept gzip, and `app.js` itself may then be left off the board."""

import ember

try:
    WWW = __file__.rsplit("/", 1)[0] + "/static_www"  # next to this file
except NameError:  # frozen on ESP8266, which has no __file__
    WWW = "/static_www"

app = ember.App()
# GET/HEAD /static/<path>; Cache-Control: max-age=600; /static/ and /static/sub/ -> index.html
app.static("/static", WWW, max_age=600)


@app.get("/")
def home(req):
    return ember.redirect("/static/")


@app.get("/report.txt")
def report(req):
    from ember.static import send_file

    # send_file with the request: conditional GETs and ranges work here too
    return send_file(WWW + "/sub/data.txt", req, content_type="text/plain; charset=utf-8")


if __name__ == "__main__":
    app.run("127.0.0.1", 8080)
