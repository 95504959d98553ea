"""Progress lines go to stderr: stdout carries only the results document."""

import sys


def say(*a):
    print(*a, file=sys.stderr, flush=True)
