"""Runs the locust students (`ncp_testkit.loadtest`) in a process of their own and returns their JSON summary.

gevent must patch the standard library before anything imports ssl. `python -m ncp_testkit.loadtest` would
import this package's `__init__` (and with it httpx, urllib3 and ssl) first, and locust then dies in a
RecursionError; so the child patches first and only then runs the module.
"""

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

_PATCH_THEN_RUN = ("from gevent import monkey; monkey.patch_all(); import runpy; "
                   "runpy.run_module('ncp_testkit.loadtest', run_name='__main__')")


class LoadTestFailed(RuntimeError):
    pass


def students_command(*args: str) -> list[str]:
    """The command line of the locust students with `args` (`--users`, `--seconds`, `--spawn-rate`)."""
    return [sys.executable, "-c", _PATCH_THEN_RUN, *args]


def run_students(gateways: Sequence[str], *, users: int, seconds: float,
                 spawn_rate: float | None = None) -> dict[str, Any]:
    """`users` students spread over `gateways` for `seconds`; the summary `loadtest.main` prints."""
    args = ["--users", str(users), "--seconds", str(seconds)]
    if spawn_rate is not None:
        args += ["--spawn-rate", str(spawn_rate)]
    env = {**os.environ, "NCP_LOAD_GATEWAYS": ",".join(gateways)}
    done = subprocess.run(students_command(*args), env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LoadTestFailed(f"locust failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
