# Serves an example unchanged: the tests load it from examples/, so the example is what runs.
_path = __file__.rsplit("/", 3)[0] + "/examples/sse.py"
_ns = {"__name__": "example", "__file__": _path}
with open(_path) as _f:
    exec(_f.read(), _ns)
app = _ns["app"]
