# The default configuration (8 connection slots of 1 KB), for heaps too small to hold all of it.
import ember

app = ember.App()


@app.get("/")
def index(req):
    return "ok"


@app.get("/slots")
def slots(req):
    return {"slots": len(app.server.slots), "busy": sum(1 for c in app.server.slots if not c.idle)}
