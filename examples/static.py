"""Static files: a directory served at /static, with gzip siblings, ETag/304, Range, index.html.

    PYTHONPATH=modules python examples/static.py      # then open http://127.0.0.1:8080/static/

The folder is named relative to this module (`App(__name__)`): found beside this file on the host,
and in the device's filesystem root when the module is frozen into firmware (copy it there with
`mpremote cp -r examples/static_www :`).
Pre-compress big assets on the host (`gzip -k9 app.js`): the `.gz` sibling is sent to clients
that accept gzip, and `app.js` itself may then be left off the board."""

import ember

app = ember.App(__name__)
# GET/HEAD /static/<path>; Cache-Control: max-age=600; /static/ and /static/sub/ -> index.html
app.static("/static", "static_www", max_age=600)


@app.get("/")
def home(req):
    return ember.redirect("/static/")


@app.get("/report.txt")
def report(req):
    from ember.static import resolve, send_file

    # send_file with the request: conditional GETs and ranges work here too
    path = resolve(app, "static_www/sub/data.txt")  # beside this file, as app.static's folder
    return send_file(path, req, content_type="text/plain; charset=utf-8")


if __name__ == "__main__":
    app.run("127.0.0.1", 8080)
