"""Instructions between two marker calls, from callgrind. bench_probe's GET /z calls math.erf and
GET /d math.erfc, and nothing else calls them: callgrind zeroes its counters before the first and
dumps them before the second, so each dump holds exactly the instructions of one window."""

import re
import subprocess

ZERO_FN, DUMP_FN = "mp_math_erf", "mp_math_erfc"


def command(out):
    """The valgrind prefix writing one dump per window to out.1, out.2, ... and the rest of the
    run to `out` at exit (a previous run's files are removed first)."""
    for old in [out] + dumps(out):
        old.unlink(missing_ok=True)
    return ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + str(out),
            "--zero-before=" + ZERO_FN, "--dump-before=" + DUMP_FN]


def dumps(out):
    """The dumps command(out) produced, in the order they were written."""
    return sorted(out.parent.glob(out.name + ".*"), key=lambda q: int(q.suffix[1:]))


def total(path):
    with open(path) as f:
        for line in f:
            m = re.match(r"(?:summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(1))
    raise RuntimeError("no totals in " + str(path))


def functions(path):
    """{function: self Ir} from callgrind_annotate's file:function table. Recursion levels
    (fn'2) are merged; the frames that were on the stack at the dump (main, the event loop...)
    are reported by callgrind_annotate with the whole total: they are dropped."""
    r = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", str(path)],
                       capture_output=True, text=True)
    fns, program_total, in_table = {}, None, False
    for line in r.stdout.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*)$", line)
        if m and m.group(2).startswith("PROGRAM TOTALS"):
            program_total = int(m.group(1).replace(",", ""))
        elif "file:function" in line:
            in_table = True
        elif in_table and m:
            ir = int(m.group(1).replace(",", ""))
            if ir == program_total:
                continue
            name = m.group(2).split(" [")[0]
            name = name.rsplit(":", 1)[-1]
            name = re.sub(r"'\d+$", "", name)
            fns[name] = fns.get(name, 0) + ir
        elif in_table and fns and line.startswith("--"):
            break
    return fns


def top_functions(a, b, n, count=25):
    """[(function, self Ir per request)] over window b minus window a, n requests, costliest
    first."""
    fa, fb = functions(a), functions(b)
    per = {k: (fb.get(k, 0) - fa.get(k, 0)) / n for k in set(fa) | set(fb)}
    return sorted(per.items(), key=lambda kv: -kv[1])[:count]
