"""The measuring client: sequential HTTP/1.1 GETs carrying only Host (like wrk's), keep-alive
unless the server closes, and its check that a hello world answered."""

import socket


class Client:
    """Sequential HTTP/1.1 GETs; reuses the connection unless the server closes it."""

    def __init__(self, port, timeout=60):
        self.port, self.timeout = port, timeout
        self.sock, self.buf = None, b""
        self.connections = 0

    def get(self, path):
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
            self.buf = b""
            self.connections += 1
        self.sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        while b"\r\n\r\n" not in self.buf:
            self._recv()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ")[:2]
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        conn = headers.get("connection", "").lower()
        close = conn == "close" or (version == "HTTP/1.0" and conn != "keep-alive")
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._recv()
            body, self.buf = self.buf[:n], self.buf[n:]
        else:  # close-delimited
            try:
                while True:
                    self._recv()
            except EOFError:
                pass
            body, self.buf, close = self.buf, b"", True
        if close:
            self.close()
        return int(status), body, version, close

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def hello(client, path="/"):
    """GET path, which must answer 200 "Hello"; (HTTP version, whether the server closed)."""
    status, body, version, close = client.get(path)
    if status != 200 or body != b"Hello":
        raise RuntimeError(f"GET {path} answered {status} {body[:60]!r}")
    return version, close
