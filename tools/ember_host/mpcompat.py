"""Static check that frozen code uses only what ESP32 / ESP8266 MicroPython v1.28 firmware has.

CPython happily runs code that fails on the device: `import typing`, `str.ljust`, or
`bytes.partition`, which ESP8266 firmware leaves out (MICROPY_PY_BUILTINS_STR_PARTITION=0 in
ports/esp8266/mpconfigport.h). The CPython test suite cannot see these; this checker can.

Allowlists, not stubs: the lists below are read off MicroPython v1.28's sources (port
mpconfigport.h files, boards/manifest.py, extmod/asyncio/__init__.py, py/objstr.c), which keeps the
check exact for the two firmware targets and free of a type checker's noise on code that is
deliberately written for both CPython and MicroPython.

Code that only runs on CPython is not checked: the `else` side of `if MICROPYTHON:` (and the body
of `if not MICROPYTHON:`), imports inside `try:` blocks that catch ImportError, and functions or
classes whose name contains "cpython" (e.g. `_accept_cpython`, chosen by `runtime.MICROPYTHON`).
"""

import ast

# Modules built into ESP8266 v1.28 firmware (C modules, plus asyncio which every ember manifest
# freezes). Python modules a board manifest freezes or require()s are added by the freeze check.
ESP8266_MODULES = frozenset(
    "_espnow _onewire _webrepl array asyncio binascii builtins collections cryptolib deflate "
    "errno esp framebuf gc hashlib heapq io json lwip machine math micropython network os "
    "platform random re select socket ssl struct sys time uctypes vfs websocket".split()
)
# ESP32 has those, more C modules, and the Python modules its stock boards/manifest.py freezes,
# which ember's ESP32 boards include as they are.
ESP32_MODULES = ESP8266_MODULES | frozenset(
    "_thread bluetooth btree cmath esp32 espnow apa106 flashbdev inisetup neopixel onewire dht "
    "ds18x20 mip ntptime requests webrepl webrepl_setup aioespnow umqtt upysh".split()
)

# Public names of MicroPython's asyncio (extmod/asyncio/__init__.py and core.py). CPython-only
# names such as Queue, Semaphore, get_running_loop, shield, TaskGroup or Stream are not here.
ASYNCIO_NAMES = frozenset(
    "CancelledError TimeoutError Loop Task TaskQueue Event ThreadSafeFlag Lock StreamReader "
    "StreamWriter create_task current_task gather get_event_loop new_event_loop open_connection "
    "run run_until_complete sleep sleep_ms start_server wait_for wait_for_ms".split()
)

# str/bytes methods CPython has and MicroPython v1.28 lacks at EXTRA_FEATURES level (py/objstr.c).
_MISSING_EVERYWHERE = frozenset(
    "capitalize casefold expandtabs format_map isalnum isascii isdecimal isidentifier isnumeric "
    "isprintable istitle ljust maketrans removeprefix removesuffix rjust swapcase title "
    "translate zfill".split()
)
MISSING_STR_METHODS = {
    "ESP32": _MISSING_EVERYWHERE,
    # ports/esp8266/mpconfigport.h switches these off as well.
    "ESP8266": _MISSING_EVERYWHERE | frozenset("center partition rpartition splitlines".split()),
}
# MicroPython's str methods take positional arguments only (`s.split(b",", maxsplit=1)` fails).
# Builtin names ESP8266 firmware switches off (ports/esp8266/mpconfigport.h).
MISSING_NAMES = {
    "ESP32": frozenset(),
    "ESP8266": frozenset("__file__ NotImplemented compile execfile complex".split()),
}
POSITIONAL_ONLY = frozenset(
    "split rsplit strip lstrip rstrip startswith endswith find rfind index rindex replace "
    "count partition rpartition center splitlines".split()
)

TARGETS = {"ESP32": ESP32_MODULES, "ESP8266": ESP8266_MODULES}
TARGET_OF_PORT = {"esp32": "ESP32", "esp8266": "ESP8266"}


def _is_micropython_test(node):
    """+1 for `MICROPYTHON` (or `x.MICROPYTHON`), -1 for `not MICROPYTHON`, 0 otherwise."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return -_is_micropython_test(node.operand)
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
    return 1 if name == "MICROPYTHON" else 0


def _catches_import_error(node):
    for handler in node.handlers:
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(n is None or getattr(n, "id", None) in ("ImportError", "Exception") for n in names):
            return True
    return False


_ROUTE_DECORATORS = frozenset("route get post put patch delete".split())


def _is_handler(node):
    """Decorated as a route: `@app.get(...)`, `@api.route(...)`, ..."""
    return any(
        isinstance(d, ast.Call)
        and isinstance(d.func, ast.Attribute)
        and d.func.attr in _ROUTE_DECORATORS
        for d in node.decorator_list
    )


def _yields(node):
    """Whether the function itself (not a function nested in it) contains a yield."""
    todo = list(node.body)
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(n))
    return False


class _Checker(ast.NodeVisitor):
    def __init__(self, filename, target, own):
        self.filename = filename
        self.target = target
        self.modules = TARGETS[target] | own
        self.missing = MISSING_STR_METHODS[target]
        self.missing_names = MISSING_NAMES[target]
        self.optional_imports = 0
        self.problems = []

    def report(self, node, message):
        self.problems.append(f"{self.filename}:{node.lineno}: {message} ({self.target})")

    # -- CPython-only regions --
    def visit_If(self, node):
        side = _is_micropython_test(node.test)
        self.visit(node.test)
        if side >= 0:
            self._visit_all(node.body)
        if side <= 0:
            self._visit_all(node.orelse)

    visit_IfExp = visit_If

    def visit_FunctionDef(self, node):
        if "cpython" not in node.name.lower():
            if isinstance(node, ast.FunctionDef) and _is_handler(node) and _yields(node):
                self.report(
                    node,
                    f"handler {node.name}() is a generator function: MicroPython awaits it as "
                    "if it were async def, and the request hangs; return Response(generator)",
                )
            self.generic_visit(node)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Try(self, node):
        optional = _catches_import_error(node)
        self.optional_imports += optional
        self._visit_all(node.body)
        self.optional_imports -= optional
        for part in (node.handlers, node.orelse, node.finalbody):
            self._visit_all(part)

    def _visit_all(self, nodes):
        for n in nodes if isinstance(nodes, list) else [nodes]:
            self.visit(n)

    # -- imports --
    def _check_module(self, node, name):
        if not self.optional_imports and name.split(".")[0] not in self.modules:
            self.report(node, f"imports {name!r}, which MicroPython firmware does not have")

    def visit_Import(self, node):
        for alias in node.names:
            self._check_module(node, alias.name)

    def visit_ImportFrom(self, node):
        if node.level:  # relative import inside the frozen package
            return
        self._check_module(node, node.module)
        if node.module == "asyncio":
            for alias in node.names:
                self._check_asyncio(node, alias.name)

    # -- attributes and methods --
    def _check_asyncio(self, node, name):
        if name not in ASYNCIO_NAMES:
            self.report(node, f"asyncio.{name} does not exist in MicroPython's asyncio")

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id == "asyncio":
            self._check_asyncio(node, node.attr)
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in self.missing_names:
            self.report(node, f"{node.id} does not exist in this firmware")

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr in self.missing:
                self.report(node, f".{func.attr}() is not a str/bytes method in MicroPython")
            elif func.attr in POSITIONAL_ONLY and node.keywords:
                self.report(node, f".{func.attr}() takes no keyword arguments in MicroPython")
        self.generic_visit(node)


def check_source(source, filename, target, own=frozenset()):
    """Problems in one file for `target` ("ESP32" or "ESP8266"); `own` = the frozen modules."""
    checker = _Checker(filename, target, frozenset(own))
    checker.visit(ast.parse(source, filename))
    return checker.problems
