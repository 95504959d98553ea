"""The results document: markdown tables on stdout and in bench/out/results.md, every measured
value in bench/out/results.json."""

import json
import subprocess
import time

import realtime
from paths import OUT, ROOT
from progress import say


def fmt_int(v, unit=""):
    return "–" if v is None else f"{v:,.0f}{unit}"


def _markdown(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def main_table(results, order, cfg):
    """One column per server, one row per metric, with issue #2's targets."""
    cols = [results[n] for n in order]
    rows = []

    def row(metric, target, fn):
        vals = []
        for r in cols:
            try:
                vals.append(fn(r))
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                vals.append("–")
        rows.append([metric, target] + vals)

    md_rps = results.get("microdot", {}).get("wrk", {}).get("rps")
    row(f"requests/s, wrk -t1 -c10 -d{cfg['secs']}s", "",
        lambda r: f"{r['wrk']['rps']:,.0f}" if "rps" in r["wrk"] else r["wrk"].get("error", "–"))
    row("× microdot throughput", "ember ≥ 5×",
        lambda r: f"{r['wrk']['rps'] / md_rps:.1f}×")
    row("wrk socket errors (conn/read/write/timeout)", "",
        lambda r: "/".join(str(v) for v in r["wrk"]["errors"].values()) or "0")
    row("connection handling", "",
        lambda r: f"{r['probe']['http']}, "
                  + ("closes after each reply" if r["probe"]["closes"] else "keep-alive"))
    row(f"interpreter instructions / GET (callgrind, N={cfg['n']})", "≤ 115,000",
        lambda r: fmt_int(r["probe"]["instr_per_req"]))
    row(f"bytes allocated / GET (mem_total, N={cfg['n']})", "≤ 2,048",
        lambda r: fmt_int(r["probe"]["alloc_per_req"]))
    row("heap kept after import of server + app (gc.mem_alloc)", "≤ 6 KB (Δ)",
        lambda r: f"{r['heap']['heap_after_import']:,} (Δ {r['heap']['heap_import_delta']:,})")
    row("heap in use while serving, 1 connection", "",
        lambda r: fmt_int(r["probe"]["heap_serving"]))
    row("frozen size, .mpy -O3 xtensawin (all modules)", "",
        lambda r: fmt_int(sum(v for v in r["sizes"].values() if v)) if r["sizes"] else "–")
    row(f"24k heap, {cfg['clients']} clients {cfg['osecs']}s: served during load", "",
        lambda r: fmt_int(r["overload"]["served"]) if r["overload"]["started"]
        else "did not start")
    row("24k heap: process alive after load", "yes",
        lambda r: "yes" if r["overload"].get("alive") else
        "no (did not start)" if not r["overload"]["started"] else
        "no (exit %s)" % r["overload"].get("exit"))
    row("24k heap: answers afterwards (of 10 sequential GETs)", "10",
        lambda r: "%d/10" % r["overload"]["after_ok"])
    small = results.get("ember", {}).get("overload_small")
    if small:
        rows.append([f"ember App({small['config']}) at 24k: served / alive / answers after",
                     "", "%s / %s / %d/10" % (
                         fmt_int(small.get("served")) if small["started"] else "did not start",
                         "yes" if small.get("alive") else "no", small["after_ok"])]
                    + [""] * (len(cols) - 1))
    return _markdown(["metric", "target"] + [r["label"] for r in cols], rows)


def shapes_table(results, cfg):
    """ember's handler shapes against the bare asyncio floor measured in the same run."""
    floor = results.get("bare", {}).get("probe", {}).get("instr_per_req")
    rows, errors = [], []
    for r in results["ember"]["shapes"]:
        instr = r.get("instr_per_req")
        ratio = instr / floor if instr is not None and floor else None
        rows.append([r["shape"], f"`{r['path']}`", fmt_int(instr),
                     "–" if ratio is None else f"{ratio:.2f}×",
                     "–" if ratio is None else "yes" if ratio <= 2 else "no",
                     fmt_int(r.get("alloc_per_req"))])
        if "error" in r and r["error"] not in errors:
            errors.append(r["error"])
    text = _markdown(["handler (bench/apps/bench_shapes.py)", "GET",
                      f"instructions / GET (callgrind, N={cfg['n']})", "× floor", "≤ 2× floor",
                      f"bytes allocated / GET (mem_total, N={cfg['n']})"], rows)
    if floor:
        note = (f"Floor: the bare asyncio server, {fmt_int(floor)} instructions / GET in this run."
                f" Target (issue 15): every shape ≤ 2× the floor, {fmt_int(2 * floor)}.")
    else:
        note = "Floor: not measured in this run (bare asyncio left out by --only, or no valgrind)."
    lines = [note, "", text]
    if errors:
        lines += [""] + ["error: " + e for e in errors]
    return "\n".join(lines)


def modules_table(results):
    rows = []
    for r in results.values():
        for mod, size in (r.get("sizes") or {}).items():
            key = mod[:-3].replace("/", ".")
            rows.append([mod, fmt_int(size), fmt_int(r.get("features", {}).get(key))])
    return _markdown(["module", ".mpy bytes (-O3 xtensawin)",
                      "heap kept by importing it after the core"], rows)


def top_table(res, n):
    return _markdown(["function", "Ir / GET"],
                     [[f"`{fn}`", f"{ir:,.0f}"] for fn, ir in res["probe"]["top_functions"][:n]])


def report(results, order, cfg, cpython_only):
    """Print the document and write it, with results.json, to bench/out/."""
    doc = ["# ember bench results", ""]
    rev = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    doc.append(f"ember {rev}; MicroPython v1.28.0 unix port, one binary per server (frozen -O3), "
               f"the EMBER_UNIX variant with `STRIP=`; {time.strftime('%Y-%m-%d %H:%M')}; "
               f"{'--quick' if cfg['secs'] == 2 else 'full run'}.")
    doc.append("")
    if cpython_only:
        doc += ["micropython/ is not checked out: CPython rows only.", "",
                f"| server | requests/s (wrk -t1 -c10 -d{cfg['secs']}s) | connection handling |",
                "|---|---|---|"]
        for n in order:
            w = results[n]["wrk"]
            doc.append(f"| {results[n]['label']} | {w.get('rps', w.get('error'))} | "
                       f"{w.get('http')}, {'closes' if w.get('closes') else 'keep-alive'} |")
    else:
        doc.append(main_table(results, order, cfg))
        if "shapes" in results.get("ember", {}):
            doc += ["", "## ember: handler shapes, instructions per keep-alive GET", "",
                    shapes_table(results, cfg)]
        doc += ["", "## Frozen modules", "", modules_table(
            {k: v for k, v in results.items() if not k.startswith("cpython")}), ""]
        if "ember" in results and "top_functions" in results["ember"].get("probe", {}):
            doc += ["## ember: top functions per GET (callgrind self cost, window B − A, / N)",
                    "", top_table(results["ember"], 20), ""]
        rt = {n: results[n]["realtime"] for n in order if "realtime" in results[n]}
        if rt:
            doc += ["## WebSocket echo and SSE fan-out (bench/realtime.py, frozen binaries)", "",
                    realtime.table(rt, 10), ""]
        doc += ["## Overload detail", ""]
        for n, key in [(n, k) for n in order for k in ("overload", "overload_small")]:
            o = results[n].get(key)
            if o:
                doc.append(f"- {results[n]['label']} {o['config']}: " + json.dumps(
                    {k: o.get(k) for k in ("served", "non2xx", "errors", "alive_after_load",
                                           "after_ok", "exit", "memoryerrors_logged",
                                           "log_tail", "note")}))
    text = "\n".join(doc) + "\n"
    print(text)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(json.dumps({"config": cfg, "results": results}, indent=1))
    say(f"written: {OUT / 'results.md'}, {OUT / 'results.json'}")
