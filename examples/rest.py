"""REST resources: one class per URL, methods per HTTP verb (tinyweb's add_resource).

PYTHONPATH=modules python examples/rest.py
curl -X POST -H 'Content-Type: application/json' -d '{"name": "led"}' localhost:8080/items
curl localhost:8080/items/1 ; curl -X DELETE localhost:8080/items/1"""

import ember
from ember.resource import streams

app = ember.App()
store = {}  # id -> item


class Items:
    """/items: list (streamed as JSON lines) and create."""

    @streams  # a generator method: its chunks are streamed (needed on MicroPython)
    def get(self, req):
        for key in sorted(store):
            yield '{"id": %d, "name": "%s"}\n' % (key, store[key]["name"])

    async def post(self, req):
        data = await req.json()
        if type(data) is not dict or type(data.get("name")) is not str:
            ember.abort(400, 'expected {"name": str}')
        key = max(store) + 1 if store else 1
        store[key] = {"name": data["name"]}
        return {"id": key, "name": data["name"]}, 201


class Item:
    """/items/<id>: read, replace, delete (no POST: 405 with Allow)."""

    def get(self, req, id):
        if id not in store:
            ember.abort(404, "no such item")
        return {"id": id, "name": store[id]["name"]}

    async def put(self, req, id):
        store[id] = {"name": (await req.json())["name"]}
        return {"id": id, "name": store[id]["name"]}

    def delete(self, req, id):
        store.pop(id, None)
        return None  # 204


app.add_resource(Items, "/items")
app.add_resource(Item(), "/items/<int:id>")

if __name__ == "__main__":
    app.run("127.0.0.1", 8080)
