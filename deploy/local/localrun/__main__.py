"""`python -m localrun up|down|status` — the local run behind `make run` and `make stop`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import time

from .ports import pid_alive, wait_until
from .stack import LocalSettings, Stack, healthy, say
from .system import ensure_system_packages


def up(stack: Stack) -> None:
    ensure_system_packages()
    try:
        stack.up()
        stack.supervise()
    finally:
        stack.down()


def down(stack: Stack) -> None:
    """Ask a running `up` to stop; clean up after one that died."""
    state_file = stack.root / "state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    runner = state.get("runner")
    if runner and pid_alive(runner):
        os.kill(runner, signal.SIGTERM)
        wait_until(lambda: not pid_alive(runner), 90, "the local run to stop", interval=0.5)
        say("stopped")
        return
    for name, pid in state.get("children", {}).items():
        if pid_alive(pid):
            say(f"stopping orphaned {name}")
            os.killpg(pid, signal.SIGTERM)
    time.sleep(1)
    stack.down()


def status(stack: Stack) -> None:
    for proc in stack.processes:
        print(f"{proc.name:<10} {'ready' if healthy(stack.settings.host, proc.port) else 'down':<6} "
              f"http://{stack.settings.host}:{proc.port}/health/ready")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localrun", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status"))
    args = parser.parse_args()
    {"up": up, "down": down, "status": status}[args.command](Stack(LocalSettings()))


if __name__ == "__main__":
    main()
