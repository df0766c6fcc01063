"""Shared test fixtures: free ports, Chromium options, a throwaway redis-server.

Under `make test` (MLPLAB_REQUIRE_BROWSER=1) a skipped test fails the run, so browser and
Redis tests can never pass by being skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

REQUIRE_ALL = os.environ.get("MLPLAB_REQUIRE_BROWSER") == "1"
# An unexpected exception in a callback fails the test (a 500) instead of becoming a friendly
# status message (dashboard/guards.py); servers the tests start inherit it.
os.environ.setdefault("MLPLAB_STRICT", "1")
REFERENCE_DIR = Path(__file__).parent / "reference"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing answered on 127.0.0.1:{port} within {timeout} s")


def until(condition, timeout: float, poll: float = 0.1, msg="condition not met in time"):
    """dash.testing's wait.until, with `msg` evaluated when it times out (a callable gives
    the page's state at that moment, which dash's own `until` would print as a function)."""
    from dash.testing.errors import TestingTimeoutError
    from dash.testing.wait import until as dash_until

    try:
        return dash_until(condition, timeout=timeout, poll=poll)
    except TestingTimeoutError:
        raise TestingTimeoutError(msg() if callable(msg) else msg) from None


def pytest_setup_options():
    """Chromium options for dash_duo (the plugin adds --headless and --no-sandbox itself)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in (
        "--window-size=1280,800",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ):
        options.add_argument(arg)
    chromium = shutil.which("chromium")
    if chromium:
        options.binary_location = chromium
    return options


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on a free loopback port, stopped after the test. Yields its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (make test installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def pytest_collection_modifyitems(config, items):
    """Browser tests need Chromium and chromedriver; say so plainly when they are missing."""
    if shutil.which("chromedriver") and shutil.which("chromium"):
        return
    reason = (
        "chromium/chromedriver not installed "
        "(run: make test, or apt-get install chromium chromium-driver)"
    )
    for item in items:
        if "dash_duo" in getattr(item, "fixturenames", ()) or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionfinish(session, exitstatus):
    """Under `make test`, any skipped test is a failure."""
    if not REQUIRE_ALL:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line(
            f"MLPLAB_REQUIRE_BROWSER=1: {skipped} test(s) were skipped; every test must run.",
            red=True,
        )
        session.exitstatus = 1


# --- dashboard tests (tests/test_dash_*.py) ---------------------------------------------------
def apply_patch(value, patch):
    """What Dash's renderer does with a `dash.Patch` (the operations the dashboard emits),
    or with one as it travels in a response (a dict): returns a patched copy of `value`."""
    import copy

    value = copy.deepcopy(value)
    ops = patch["operations"] if isinstance(patch, dict) else patch.to_plotly_json()["operations"]
    for op in ops:
        *path, last = op["location"]
        target = value
        for key in path:
            target = target[key]
        if op["operation"] == "Assign" and isinstance(target, list) and last == len(target):
            target.append(copy.deepcopy(op["params"]["value"]))  # as the renderer's assocPath
        elif op["operation"] == "Assign":
            target[last] = copy.deepcopy(op["params"]["value"])
        elif op["operation"] == "Extend":
            target[last] = target[last] + list(op["params"]["value"])
        else:
            raise AssertionError(f"unexpected Patch operation {op['operation']}")
    return value
