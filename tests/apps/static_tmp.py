# Static files from a directory the test creates (EMBER_STATIC_DIR), served at the root.
import os

import ember

app = ember.App()
app.static("/", os.getenv("EMBER_STATIC_DIR"), max_age=0, index=None, buffer_size=256)


@app.get("/api/ping")
def ping(req):
    return "pong"
