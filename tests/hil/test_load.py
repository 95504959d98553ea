"""50 clients at once, then the free heap compared with before: nothing kept per connection."""

import json
import socket
import threading
import time

from hil_support import status

CLIENTS = 50
# What may differ between two collected heaps without a leak (fragmentation, a lazily made
# buffer); a leak of even 100 bytes per connection is 5 KB over 50.
SLACK = 2048


def get(device, results, i):
    try:
        with socket.create_connection((device.ip, device.port), timeout=60) as sock:
            sock.sendall(b"GET /api/hello/c%d HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n" % i)
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        results[i] = data
    except OSError as e:
        results[i] = repr(e).encode()


def round_of(device, n):
    results = [None] * n
    threads = [threading.Thread(target=get, args=(device, results, i)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_fifty_concurrent_clients_then_the_heap_is_back(device, hil_report):
    round_of(device, 8)  # anything made on first use is made before the heap is measured
    before = status(device)["heap_free"]
    start = time.monotonic()
    results = round_of(device, CLIENTS)
    hil_report.timing("concurrent_50", time.monotonic() - start)
    failed = [(i, r[:80]) for i, r in enumerate(results) if not r.startswith(b"HTTP/1.1 200 ")]
    assert not failed
    bodies = [json.loads(r.partition(b"\r\n\r\n")[2]) for r in results]
    assert bodies == [{"hello": "c%d" % i, "lang": "en"} for i in range(CLIENTS)]
    time.sleep(1)  # the device closes its side of the last connections
    after = status(device)["heap_free"]
    hil_report.heap_figure("free_before_concurrent", before)
    hil_report.heap_figure("free_after_concurrent", after)
    assert after >= before - SLACK, f"{before - after} bytes less free after {CLIENTS} clients"
