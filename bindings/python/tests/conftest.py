"""A real `roulette serve` on a loopback port for each test, and host tokens for it."""

import os
import re
import subprocess
import tempfile

import pytest

BIN = os.environ.get("ROULETTE_BIN")


class Server:
    def __init__(self, *args: str) -> None:
        if not BIN:
            raise RuntimeError("set ROULETTE_BIN to the roulette binary (scripts/test does)")
        self.data = tempfile.mkdtemp(prefix="roulette-py-")
        env = dict(os.environ, RUST_LOG="info", NO_COLOR="1")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            m = re.search(r"listening.*addr=(\S+)", line)
            if m:
                self.url = f"http://{m.group(1)}"
                break
        else:
            raise RuntimeError("the server did not start")

    def host_token(self) -> str:
        out = subprocess.run(
            [BIN, "token", "--data-dir", self.data, "--days", "1"],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def server():
    s = Server("--planning-time", "0s")
    yield s
    s.stop()


@pytest.fixture
def planning_server():
    """A server whose sessions start with the project vote (three minutes, or both agree)."""
    s = Server()
    yield s
    s.stop()
