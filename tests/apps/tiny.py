# An ESP8266-sized configuration: few connections, small buffers, a small heap reserve.
import gc

import ember

app = ember.App(max_connections=2, max_head=512, min_free=1536, header_timeout=2)


@app.get("/")
def index(req):
    return "ok"


@app.get("/free")
def free(req):
    gc.collect()
    return str(gc.mem_free())
