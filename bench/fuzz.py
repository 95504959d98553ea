"""Mutation fuzzer for ember: valid requests, mutated, split across reads, thrown at the server.

    .venv/bin/python bench/fuzz.py                        # 1,000,000 cases in-process (CPython)
    .venv/bin/python bench/fuzz.py --cases 20000 --seed 7
    .venv/bin/python bench/fuzz.py --target unix          # over TCP, the MicroPython unix port
    .venv/bin/python bench/fuzz.py --target cpython       # over TCP, ember on CPython
    .venv/bin/python bench/fuzz.py --seed 7 --case 1234   # replay one case, with its bytes

Each case starts from a valid request (a method, target and header fields; a body with
Content-Length, chunked or multipart; a WebSocket handshake and frames; an event stream;
pipelined requests), applies a few mutations (bytes flipped, replaced, inserted, deleted or
repeated; numbers such as lengths and chunk sizes swapped for boundary values; header lines
repeated or dropped; truncation) and splits the result into arrivals. Then the client ends its
side (EOF) or resets the connection. Case `i` of seed `s` is the same bytes on every run.

A case fails when ember
- raised: an exception escaped `app.handle()`, a traceback was printed, or a 500 was answered
  (the target app's handlers never fail on their own: tests/apps/fuzz_target.py);
- hung: the connection was not closed within `--timeout` seconds of the client's EOF;
- held something: a task left running after the connection ended, a connection the app never
  closed, or (over TCP) a connection slot not back to idle and reset (its `/__slots` route);
- wrote something that is not HTTP.

In-process runs go through ember.testing on CPython, alternating between the app without hooks
(the protocol's fast path) and with hooks (CORS, a before-request hook). Every failure is
printed with its seed, index and bytes; the exit status is 1 if there was any."""

import argparse
import asyncio
import io
import json
import os
import random
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT / "modules", ROOT / "tests", ROOT / "tests" / "apps"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))
from process_support import ServerProcess  # noqa: E402 - tests/ is not a package
from process import free_port  # noqa: E402 - bench/process.py, beside this file

# -- valid requests -----------------------------------------------------------------------------

TARGETS = (
    b"/",
    b"/json",
    b"/args?a=1&b=%20x+y&a=2&c",
    b"/args?e=%C3%A9&%2B=%26",
    b"/headers",
    b"/files/a/b%2Fc/%C3%A9",
    b"/count?n=5",
    b"/admin",
    b"/s/fuzz_target.py",
    b"/s/",
    b"/s",
    b"/s/%2e%2e/x",
    b"/nowhere",
    b"http://x/json",
    b"/items/7",
)
FIELDS = (
    b"User-Agent: fuzz/1.0",
    b"Accept: */*",
    b'Cookie: a=1; b="two"; c',
    b"Connection: close",
    b"Connection: keep-alive",
    b"Authorization: Basic YWRtaW46c2VjcmV0",
    b"Authorization: Basic YWRtaW46d3Jvbmc=",
    b"Range: bytes=0-10",
    b"Range: bytes=-5",
    b"Range: bytes=100-",
    b'If-None-Match: "x", W/"y"',
    b'If-Range: "y"',
    b"Accept-Encoding: gzip, deflate",
    b"Origin: http://a.example",
    b"X-Maintenance: 1",
    b"Access-Control-Request-Method: PUT",
    b"X-Empty:",
    b"Content-Type: text/plain; charset=utf-8",
    b"Access-Control-Request-Headers: X-A, Content-Type",
    b"Sec-WebSocket-Protocol: x, chat",
    b"X-Long: " + b"v" * 100,
)
WORDS = ("é", "ok", "a b", "x&y=z", "€", "\u0000", "𝄞", 'quote"d', "", "1234567890")


def _head(method, target, fields, version=b"HTTP/1.1"):
    return b"%s %s %s\r\n%s\r\n" % (method, target, version, b"".join(f + b"\r\n" for f in fields))


def _fields(rng, extra=()):
    fields = [b"Host: x"]
    for f in rng.sample(FIELDS, rng.randint(0, 4)):
        fields.append(f)
    fields.extend(extra)
    rng.shuffle(fields)
    return fields


def _text(rng, n):
    return "".join(rng.choice(WORDS) for _ in range(n))


def _body(rng, target):
    if target == b"/json" or target == b"/items/7":
        return json.dumps({_text(rng, 1): [rng.randint(-9, 9), _text(rng, 2), None]}).encode()
    if target == b"/form":
        pairs = [(_text(rng, 1), _text(rng, 2)) for _ in range(rng.randint(0, 4))]
        from ember.testing import urlencode

        return urlencode(pairs).encode()
    return bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 1, 10, 100, 700, 1100))))


def gen_get(rng):
    method = rng.choice((b"GET", b"GET", b"HEAD", b"OPTIONS", b"DELETE"))
    target = rng.choice(TARGETS) if method != b"OPTIONS" or rng.random() < 0.8 else b"*"
    version = b"HTTP/1.1" if rng.random() < 0.85 else b"HTTP/1.0"
    return _head(method, target, _fields(rng), version)


def _post_target(rng):
    target = rng.choice((b"/body", b"/json", b"/form", b"/stream", b"/items/7"))
    return (b"PUT" if target == b"/items/7" else b"POST"), target


def gen_post(rng):
    method, target = _post_target(rng)
    body = _body(rng, target)
    extra = [b"Content-Length: %d" % len(body)]
    if rng.random() < 0.2:
        extra.append(b"Expect: 100-continue")
    return _head(method, target, _fields(rng, extra)) + body


def _chunks(rng, body):
    out = []
    i = 0
    while i < len(body):
        n = rng.randint(1, 300)
        size = b"%x" % len(body[i : i + n])
        if rng.random() < 0.2:
            size = size.upper()
        if rng.random() < 0.1:
            size = b"000" + size
        if rng.random() < 0.1:
            size += b";ext=1"
        out.append(size + b"\r\n" + body[i : i + n] + b"\r\n")
        i += n
    out.append(b"0\r\n")
    if rng.random() < 0.2:
        out.append(b"X-Trailer: 1\r\n")
    out.append(b"\r\n")
    return b"".join(out)


def gen_chunked(rng):
    method, target = _post_target(rng)
    body = _chunks(rng, _body(rng, target))
    return _head(method, target, _fields(rng, [b"Transfer-Encoding: chunked"])) + body


def gen_multipart(rng):
    boundary = rng.choice(("b", "----fuzz7MA4YWxk", "x" * 70, "a-b_c.d"))
    parts = []
    for i in range(rng.randint(0, 5)):
        if rng.random() < 0.5:
            parts.append(("f%d" % i, _text(rng, rng.randint(0, 5))))
        else:
            data = bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 5, 130, 600))))
            if rng.random() < 0.3:
                data += b"\r\n--" + boundary.encode()[:-1] + b"\r\n--"
            parts.append(("file%d" % i, ("n%d.bin" % i, data, "application/octet-stream")))
    from ember.testing import multipart

    body, ctype = multipart(parts, boundary)
    if rng.random() < 0.2:
        ctype = 'multipart/form-data; charset=utf-8; boundary="%s"' % boundary
    fields = [b"Content-Type: " + ctype.encode()]
    if rng.random() < 0.3:
        fields.append(b"Transfer-Encoding: chunked")
        body = _chunks(rng, body)
    else:
        fields.append(b"Content-Length: %d" % len(body))
    return _head(b"POST", b"/upload", _fields(rng, fields)) + body


def _frame(rng, opcode, payload, fin=True):
    from ember.testing import frame

    mask = bytes(rng.getrandbits(8) for _ in range(4))
    form = rng.choice((None, None, None, 126, 127))
    return frame(opcode, payload, fin, mask, 0, form)


def gen_websocket(rng):
    fields = [
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        b"Sec-WebSocket-Version: 13",
    ]
    out = [_head(b"GET", b"/ws", _fields(rng, fields))]
    for _ in range(rng.randint(0, 5)):
        r = rng.random()
        if r < 0.3:
            out.append(_frame(rng, 1, _text(rng, rng.randint(0, 20)).encode()))
        elif r < 0.5:
            out.append(
                _frame(rng, 2, bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300))))
            )
        elif r < 0.65:
            text = _text(rng, 6).encode()
            cut = rng.randint(0, len(text))
            out.append(
                _frame(rng, 1, text[:cut], False)
                + _frame(rng, 9, b"p")
                + _frame(rng, 0, text[cut:])
            )
        elif r < 0.8:
            out.append(_frame(rng, rng.choice((9, 10)), _text(rng, 2).encode()[:125]))
        else:
            code = rng.choice((1000, 1001, 3000, 4999, 1005, 999))
            out.append(_frame(rng, 8, struct.pack("!H", code) + _text(rng, 1).encode()[:100]))
    return b"".join(out)


def gen_sse(rng):
    extra = [b"Accept: text/event-stream"]
    if rng.random() < 0.5:
        extra.append(b"Last-Event-ID: %d" % rng.randint(0, 99))
    return _head(b"GET", b"/sse", _fields(rng, extra), rng.choice((b"HTTP/1.1", b"HTTP/1.0")))


def gen_pipeline(rng):
    return b"".join(
        rng.choice((gen_get, gen_post, gen_chunked))(rng) for _ in range(rng.randint(2, 3))
    )


GENERATORS = (
    ("get", gen_get, 3),
    ("post", gen_post, 2),
    ("chunked", gen_chunked, 2),
    ("multipart", gen_multipart, 2),
    ("websocket", gen_websocket, 2),
    ("sse", gen_sse, 1),
    ("pipeline", gen_pipeline, 1),
)
_KINDS = [(name, gen) for name, gen, weight in GENERATORS for _ in range(weight)]

# -- mutations ----------------------------------------------------------------------------------

TOKENS = (
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n\r\n",
    b"\x00",
    b" ",
    b"\t",
    b":",
    b";",
    b",",
    b"%",
    b"%zz",
    b"%00",
    b"%C0%80",
    b"\xc0\x80",
    b"\xff",
    b"\xed\xa0\x80",
    b"0",
    b"f",
    b"-",
    b"=",
    b"/..",
    b"0\r\n\r\n",
    b"\r\nContent-Length: 5",
    b"\r\nTransfer-Encoding: chunked",
    b"\r\nHost: y",
    b'"',
    b"\\",
    b"HTTP/1.1",
    b"\x81\x85",
    b"\x88\x80",
    b"\xff\xff\xff\xff",
)
NUMBERS = (
    b"0",
    b"1",
    b"-1",
    b"+1",
    b"00000000001",
    b"126",
    b"127",
    b"65535",
    b"65536",
    b"1024",
    b"1025",
    b"4294967295",
    b"4294967296",
    b"ffffffff",
    b"100000000",
    b"ffffffffffffffffffff",
    b"99999999999999999999",
    b"9223372036854775808",
    b"0x10",
    b"1_0",
    b"",
    b" 5 ",
    b"1e3",
)


def _number_span(rng, data):
    """(start, end) of a random run of hex digits in `data`, or None."""
    for _ in range(8):
        i = rng.randrange(len(data))
        if chr(data[i]) in "0123456789abcdefABCDEF":
            s = i
            while s > 0 and chr(data[s - 1]) in "0123456789abcdefABCDEF":
                s -= 1
            e = i
            while e < len(data) and chr(data[e]) in "0123456789abcdefABCDEF":
                e += 1
            return s, e
    return None


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3, 4, 6))):
        if not data:
            data += rng.choice(TOKENS)
            continue
        op = rng.randrange(11)
        i = rng.randrange(len(data))
        if op == 0:  # flip a bit
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # replace a byte
            data[i] = rng.choice(TOKENS)[0]
        elif op == 2:  # insert a token
            data[i:i] = rng.choice(TOKENS)
        elif op == 3:  # delete a span
            del data[i : i + rng.randint(1, 16)]
        elif op == 4:  # repeat a span
            span = bytes(data[i : i + rng.randint(1, 64)])
            data[i:i] = span * rng.randint(1, 20)
        elif op == 5:  # truncate
            del data[i:]
        elif op in (6, 7):  # a number (length, chunk size, status, port) swapped
            span = _number_span(rng, data)
            if span is not None:
                data[span[0] : span[1]] = rng.choice(NUMBERS)
        elif op == 8:  # repeat or drop a header line
            s = data.find(b"\r\n", i)
            e = data.find(b"\r\n", s + 2) if s >= 0 else -1
            if e > s >= 0:
                line = bytes(data[s:e])
                if rng.random() < 0.5:
                    data[e:e] = line
                else:
                    del data[s:e]
        elif op == 9:  # a long run (limits)
            data[i:i] = rng.choice((b"a", b"%41", b"\r\n", b"X: y\r\n")) * rng.randint(50, 700)
        else:  # random bytes
            data[i:i] = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 8)))
    return bytes(data)


def split(rng, data, byte_by_byte=True, max_pieces=12):
    """Arrivals: whole, or cut at a few random places, or (in-process) one byte at a time."""
    r = rng.random()
    if r < 0.45 or len(data) < 2:
        return [data]
    if byte_by_byte and r < 0.53 and len(data) <= 2000:
        return [data[i : i + 1] for i in range(len(data))]
    k = rng.randint(2, min(max_pieces, len(data)))
    cuts = sorted(rng.sample(range(1, len(data)), k - 1))
    return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)], strict=True)]


class Case:
    """Case `index` of `seed`: what kind of request it started from, its arrivals, how the
    client ends (`eof` or `reset`), and how often the app may run between arrivals."""

    def __init__(self, seed, index, sockets=False):
        rng = random.Random("%d:%d" % (seed, index))
        self.seed = seed
        self.index = index
        self.kind, gen = rng.choice(_KINDS)
        data = gen(rng)
        if rng.random() < 0.9:
            data = mutate(rng, data)
        self.pieces = split(rng, data, not sockets)
        self.end = "reset" if rng.random() < 0.08 else "eof"
        self.yields = rng.choice((0, 0, 1, 3))  # in-process: event-loop turns between arrivals
        self.pause = rng.random() < 0.2  # over TCP: a short sleep between arrivals

    @classmethod
    def given(cls, data, end="eof", index=0):
        """A case of these bytes, in one arrival (for tests of the fuzzer itself)."""
        case = cls.__new__(cls)
        case.seed, case.index, case.kind, case.pieces = 0, index, "given", [data]
        case.end, case.yields, case.pause = end, 0, False
        return case

    @property
    def data(self):
        return b"".join(self.pieces)

    def describe(self):
        return "case %d:%d (%s, %d arrival%s, %s)" % (
            self.seed,
            self.index,
            self.kind,
            len(self.pieces),
            "" if len(self.pieces) == 1 else "s",
            self.end,
        )


# -- what counts as a failure -------------------------------------------------------------------


def output_problems(out):
    """What is wrong with what the server wrote (empty: nothing)."""
    problems = []
    if out and not out.startswith(b"HTTP/1.1 "):
        problems.append("output is not HTTP: %r" % out[:80])
    i = out.find(b"HTTP/1.1 500 ")
    if i >= 0:
        problems.append("answered 500: %r" % out[i : i + 300])
    return problems


def status_of(out):
    return int(out[9:12]) if out.startswith(b"HTTP/1.1 ") and out[9:12].isdigit() else None


class Results:
    def __init__(self):
        self.cases = 0
        self.failures = []  # (case, [problems], output)
        self.statuses = {}
        self.kinds = {}

    def add(self, case, problems, out):
        self.cases += 1
        status = status_of(out)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.kinds[case.kind] = self.kinds.get(case.kind, 0) + 1
        if problems:
            self.failures.append((case, problems, out))

    def report(self, out=sys.stdout, bytes_shown=600):
        """Every failed case, one line each, grouped by what went wrong; the first case of each
        group in full (problems, bytes sent, bytes received)."""
        groups = {}
        for failure in self.failures:
            groups.setdefault(signature(failure[1]), []).append(failure)
        for sig, failures in groups.items():
            case, problems, data = failures[0]
            print(
                "FAIL %s: %d case%s" % (sig, len(failures), "" if len(failures) == 1 else "s"),
                file=out,
            )
            for c, _, _ in failures:
                print("  %s" % c.describe(), file=out)
            print("  first of them in full:", file=out)
            for p in problems:
                print("    " + p.replace("\n", "\n    "), file=out)
            sent = case.pieces if len(case.pieces) < 20 else [case.data]
            print("    sent: %s" % repr(sent)[:bytes_shown], file=out)
            print("    got:  %s" % repr(data)[:bytes_shown], file=out)


def signature(problems):
    """A short name for what went wrong: the kind of problem, and for an exception its type and
    the innermost ember frame."""
    sigs = []
    for p in problems:
        kind = p.split(":", 1)[0]
        lines = [x.strip() for x in p.splitlines()]
        where = [x for x in lines if x.startswith("File ") and "/ember/" in x]
        errors = [
            x
            for x in lines
            if x and not x.startswith(("File ", "^", "~")) and ("Error" in x or "Exception" in x)
        ]
        if where:
            kind += (
                " at "
                + where[-1].split("/ember/", 1)[1].split(",", 2)[0]
                + where[-1].split(",", 2)[1]
            )
        if errors:
            kind += " " + errors[-1].split(":", 1)[0]
        sigs.append(kind)
    return "; ".join(sigs)


# -- in-process ---------------------------------------------------------------------------------


class _Spinning(BaseException):
    """Raised by the alarm when a case keeps the CPU without ever awaiting (a BaseException:
    ember's handlers for Exception must not turn it into a 500)."""


def _alarm(signum, frame):
    raise _Spinning("no await for too long: ember spins")


async def run_case_inprocess(client, case):
    """([problems], output) of one case through `client` (an ember.testing.TestClient)."""
    from ember.testing import Timeout

    problems = []
    out = b""
    printed = io.StringIO()
    stderr = sys.stderr
    sys.stderr = printed  # ember prints the tracebacks it catches (runtime.print_exception)
    try:
        conn = client.connect()
        for piece in case.pieces:
            conn.send(piece)
            for _ in range(case.yields):
                await asyncio.sleep(0)
        if case.end == "reset":
            conn.abort()
        else:
            conn.shutdown()
        try:
            out = await conn.read_all()
        except Timeout:
            problems.append("hang: the connection was not closed %s s after EOF" % client.timeout)
        try:
            await conn.wait_closed()
        except Timeout:
            problems.append("hang: app.handle() did not return")
            conn.task.cancel()
        except _Spinning as e:
            problems.append("hang: %s" % e)
        except BaseException as e:  # noqa: B036 - whatever escaped handle() is the finding
            problems.append("raised out of app.handle(): " + "".join(traceback.format_exception(e)))
        if conn.done and not conn.app_closed:
            problems.append("held: app.handle() returned without closing the connection")
        for _ in range(3):  # let cancelled tasks finish
            await asyncio.sleep(0)
        me = asyncio.current_task()
        left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if left:
            problems.append("held: tasks left running: %r" % left)
            for t in left:
                t.cancel()
            await asyncio.sleep(0)
    finally:
        sys.stderr = stderr
    if printed.getvalue():
        problems.append("printed: " + printed.getvalue()[-3000:])
    problems += output_problems(out)
    return problems, out


async def fuzz_inprocess(cases, timeout=2.0, apps=None, results=None, progress=None):
    """Run `cases` through ember.testing; returns a Results."""
    from ember.testing import TestClient

    if apps is None:
        import fuzz_target

        apps = (fuzz_target.app, fuzz_target.hooked)
    clients = [TestClient(a, timeout=timeout) for a in apps]
    results = results or Results()
    spin_guard = (
        hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    if spin_guard:
        old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for case in cases:
            if spin_guard:
                signal.setitimer(signal.ITIMER_REAL, timeout * 5)
            try:
                problems, out = await run_case_inprocess(clients[case.index % len(clients)], case)
            except _Spinning as e:
                problems, out = ["hang: %s" % e], b""
            results.add(case, problems, out)
            if progress is not None:
                progress(results)
    finally:
        if spin_guard:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    return results


# -- over TCP -----------------------------------------------------------------------------------


def _exchange(port, case, timeout):
    """(problems, output) of one case over a TCP connection."""
    problems = []
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out = b""
    try:
        try:
            for piece in case.pieces:
                s.sendall(piece)
                if case.pause:
                    time.sleep(0.001)
        except OSError:  # the server closed already: read what it said
            pass
        if case.end == "reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return problems, out
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        chunks = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                problems.append("hang: the connection was not closed %s s after EOF" % timeout)
                break
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except OSError:  # reset by the server: allowed after an error response
                break
            if not chunk:
                break
            chunks.append(chunk)
        out = b"".join(chunks)
    finally:
        s.close()
    problems += output_problems(out)
    return problems, out


def held_slots(port, wait=1.0):
    """The server's `/__slots` report of held slots, after giving them `wait` s to settle."""
    deadline = time.monotonic() + wait
    while True:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /__slots HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        held = json.loads(data.split(b"\r\n\r\n", 1)[1])["held"]
        if not held or time.monotonic() > deadline:
            return held
        time.sleep(0.02)


def fuzz_sockets(server, cases, timeout=2.0, results=None, progress=None):
    """Run `cases` over TCP against `server` (`port`, `output()`, `alive()`); returns Results."""
    results = results or Results()
    seen = len(server.output())
    for case in cases:
        problems, out = _exchange(server.port, case, timeout)
        if not server.alive():
            problems.append("the server died:\n" + server.output()[seen:][-3000:])
            results.add(case, problems, out)
            break
        held = held_slots(server.port)
        if held:
            problems.append("held: connection slots %r" % held)
        printed = server.output()[seen:]
        if "Traceback" in printed or "Error" in printed:
            time.sleep(0.05)  # the rest of it
            printed = server.output()[seen:]
            problems.append("printed: " + printed[-3000:])
        seen = len(server.output())
        results.add(case, problems, out)
        if progress is not None:
            progress(results)
    return results


class Server(ServerProcess):
    """tests/apps/fuzz_target.py served by tests/serve_app.py on `binary` (python or
    micropython): `port`, `output()`, `alive()`, `stop()`, as the test harness's RunningApp."""

    def __init__(self, binary, micropython):
        self.port = free_port()
        app = ROOT / "tests" / "apps" / "fuzz_target.py"
        env = dict(os.environ, PYTHONPATH=str(ROOT / "modules"), PYTHONUNBUFFERED="1")
        if micropython:
            env["MICROPYPATH"] = "%s:.frozen" % (ROOT / "modules")
        cmd = [str(binary), str(ROOT / "tests" / "serve_app.py"), str(app), str(self.port)]
        super().__init__(cmd, env)
        self.require_ready("the fuzz target did not start")


# -- command line -------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="index of the first case")
    parser.add_argument("--case", type=int, help="replay this one case, showing its bytes")
    parser.add_argument("--target", choices=("inprocess", "unix", "cpython"), default="inprocess")
    parser.add_argument("--micropython", default=str(ROOT / "build" / "unix" / "micropython"))
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds after EOF (2)")
    args = parser.parse_args(argv)

    sockets = args.target != "inprocess"
    if args.case is not None:
        indices = range(args.case, args.case + 1)
    else:
        indices = range(args.start, args.start + args.cases)
    cases = (Case(args.seed, i, sockets) for i in indices)
    started = time.monotonic()

    def progress(results):
        if results.cases % 10000 == 0:
            print(
                "%d cases, %d failures, %.0f s"
                % (results.cases, len(results.failures), time.monotonic() - started),
                flush=True,
            )

    print("fuzz: seed %d, cases %d..%d, %s" % (args.seed, indices[0], indices[-1], args.target))
    if sockets:
        binary = args.micropython if args.target == "unix" else sys.executable
        server = Server(binary, args.target == "unix")
        try:
            results = fuzz_sockets(server, cases, args.timeout, progress=progress)
        finally:
            server.stop()
    else:
        results = asyncio.run(fuzz_inprocess(cases, args.timeout, progress=progress))
    if args.case is not None:
        case = Case(args.seed, args.case, sockets)
        print("%s\n    sent: %r" % (case.describe(), case.pieces))
        if not results.failures:
            print("    no failure")
    results.report()
    print(
        "fuzz: %d cases in %.1f s, %d failed; first statuses: %s"
        % (
            results.cases,
            time.monotonic() - started,
            len(results.failures),
            dict(sorted(results.statuses.items(), key=lambda kv: -kv[1])),
        )
    )
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
