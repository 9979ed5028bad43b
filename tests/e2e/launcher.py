"""A preloading launcher for the kill loop: it imports what ``tuangou serve`` and ``tuangou
worker`` import, once, then forks a new process for each start it is asked for (like a
preloading application server). Each child is a real server or worker process of its own: a
SIGKILL ends it as it would end one started from scratch; only the interpreter's imported
modules are shared, so a restart costs a fork instead of seconds of imports.

Protocol: one JSON line on stdin per start, ``{"args": [...], "log": PATH}``; the launcher
answers the child's pid on a line of stdout. Children are reaped by the launcher at once
(SIGCHLD ignored), so a killed child's pid disappears.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import uvicorn  # noqa: F401  (the preload)

import tuangou.api.app
import tuangou.worker  # noqa: F401
from tuangou.cli import app


def main() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.dup2(log, 1)
                os.dup2(log, 2)
                app(args=request["args"], prog_name="tuangou")
            except SystemExit as exc:
                os._exit(exc.code if isinstance(exc.code, int) else 1)
            except BaseException:
                import traceback

                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
