"""The test runner of benchmarks/mutation.py: a warm server that forks one
pytest process per mutant, and the thin client cosmic-ray runs as its test
command.

The server imports TensorFlow, Keras and pytest but runs no op (TensorFlow's
runtime hangs in a forked child once it has run one; forking before is
safe) and never imports keras_gan, so each child starts the runtime itself
and imports the mutated copy fresh. The client picks the tests: those that
called a function the mutant changed, by the call map a `CallMap` run
recorded on the unmutated code.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

TIMEOUT = 600  # per mutant, seconds: the slowest module's tests take a few minutes


def serve(sock_path: str, root: str) -> None:
    """Import the heavy libraries once, then fork one pytest child per request."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.dont_write_bytecode = True  # a mutant may keep a file's size and mtime second
    sys.path.insert(0, root)
    import keras  # noqa: F401
    import numpy  # noqa: F401
    import pytest
    import tensorflow  # noqa: F401

    assert "keras_gan" not in sys.modules
    server = socket.socket(socket.AF_UNIX)
    server.bind(sock_path)
    server.listen()
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            request = json.loads(conn.makefile().readline())
            conn.sendall((json.dumps(_run_child(pytest, root, request)) + "\n").encode())


class CallMap:
    """A pytest plugin: which functions of one file each test calls (its
    fixtures' set-up included), by the line where the function starts."""

    def __init__(self, filename: str):
        self.filename, self.current, self.calls = filename, None, {}

    def _profile(self, frame, event, arg):
        if event == "call" and frame.f_code.co_filename == self.filename:
            self.calls.setdefault(self.current, set()).add(frame.f_code.co_firstlineno)

    def pytest_runtest_protocol(self, item, nextitem):
        import threading

        self.current = item.nodeid
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)  # tf.data and Keras may call from threads

    def pytest_runtest_logfinish(self, nodeid, location):
        import threading

        sys.setprofile(None)
        threading.setprofile(None)

    def save(self, path: str) -> None:
        Path(path).write_text(json.dumps({k: sorted(v) for k, v in self.calls.items()}))


def _run_child(pytest, root: str, request: dict) -> dict:
    with tempfile.TemporaryFile() as out:
        pid = os.fork()
        if pid == 0:  # the child: fresh imports of the (mutated) copy
            try:
                os.setsid()
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
                os.chdir(root)
                plugins = []
                if request.get("callmap"):
                    plugins = [CallMap(str(Path(root, request["target"]).resolve()))]
                code = int(pytest.main(request["args"], plugins=plugins))
                if plugins:
                    plugins[0].save(request["callmap"])
            finally:
                os._exit(locals().get("code", 3))
        deadline = time.monotonic() + request["timeout"]
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return {"code": 1, "output": "timeout"}
        out.seek(0)
        tail = out.read().decode(errors="replace")[-4000:]
        return {"code": os.waitstatus_to_exitcode(status), "output": tail}


def ask(sock_path: str, request: dict) -> dict:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock_path)
        s.sendall((json.dumps({"timeout": TIMEOUT - 30, **request}) + "\n").encode())
        return json.loads(s.makefile().readline())


def functions_at(source: str, lines) -> set[int] | None:
    """The start lines (first decorator or `def`) of the innermost functions
    holding `lines`; None if a line lies outside every function (module or
    class level: import-time code, which every test runs)."""
    import ast

    spans = [(min([n.lineno, *(d.lineno for d in n.decorator_list)]), n.end_lineno)
             for n in ast.walk(ast.parse(source))
             if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    found = set()
    for line in lines:
        holding = [s for s in spans if s[0] <= line <= s[1]]
        if not holding:
            return None
        found.add(max(holding)[0])  # the innermost starts last
    return found


def plan_tests(pristine: str, mutated: str, calls: dict, files: list[str]) -> list[str]:
    """The tests to run on a mutant: those that called a function it changed,
    in collection order; all of `files` when it changed import-time code."""
    import difflib

    old = pristine.splitlines()
    changed = {i + 1 for tag, i1, i2, _, _ in difflib.SequenceMatcher(
        a=old, b=mutated.splitlines(), autojunk=False).get_opcodes() if tag != "equal"
        for i in range(i1, max(i2, i1 + 1))}
    starts = functions_at(pristine, changed)
    if starts is None or starts & set(calls.get("null", ())):  # import or collection time
        return list(files)
    return [test for test, lines in calls.items() if test != "null" and starts & set(lines)]


def client(sock_path: str, args: list[str], plan: str | None = None) -> int:
    """cosmic-ray's test command: exit as the forked pytest did. With a plan
    (the module, its pristine copy, the call map), run only the tests that
    call the mutated code; a mutant no test calls survives."""
    if plan:
        p = json.loads(Path(plan).read_text())
        tests = plan_tests(Path(p["pristine"]).read_text(), Path(p["target"]).read_text(),
                           json.loads(Path(p["callmap"]).read_text()), p["files"])
        if not tests:
            print("no test calls the mutated code")
            return 0
        args = [a for a in args if a not in p["files"]] + tests
    answer = ask(sock_path, {"args": args})
    print(answer["output"])
    return answer["code"]
