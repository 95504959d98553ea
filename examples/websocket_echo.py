# WebSocket: an echo endpoint and a chat room that broadcasts every message to everyone.
#   python examples/websocket_echo.py, then e.g. `python -m websockets ws://127.0.0.1:8080/chat`
import ember
from ember.websocket import ConnectionClosed, with_websocket

app = ember.App(max_connections=8)
room = []


@app.get("/echo")
@with_websocket(max_message=4096)
async def echo(req, ws):
    async for msg in ws:  # str for text frames, bytes for binary; ends when the peer closes
        await ws.send(msg)


@app.get("/chat")
@with_websocket(max_message=1024, ping_interval=30)
async def chat(req, ws):
    room.append(ws)
    try:
        async for msg in ws:
            for peer in list(room):
                try:
                    await peer.send(msg)
                except ConnectionClosed:  # that peer is gone: its own handler cleans up
                    pass
    finally:
        room.remove(ws)


if __name__ == "__main__":
    app.run("0.0.0.0", 8080)
