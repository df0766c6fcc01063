"""What bench/browser.py and bench/load.py share: processes they start (and always stop),
free loopback ports, percentiles, tables and a description of the machine.

Everything here listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
PYTHON = sys.executable
HOST = "127.0.0.1"


# ------------------------------------------------------------------------------ ports
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None):
    """Until something accepts connections on 127.0.0.1:port (or `proc` dies, or timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with code {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing answered on {HOST}:{port} within {timeout} s")


# -------------------------------------------------------------------------- processes
class Processes:
    """Starts processes, each in its own process group, and stops every one of them on exit
    (SIGTERM to the group, SIGKILL after a grace period), whatever happened in between.

        with Processes() as procs:
            url = start_redis(procs)
    """

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="mlplab-bench-"))

    def __enter__(self) -> Processes:
        # `make bench` interrupted, or a timeout's SIGTERM: run the cleanup below.
        self._old = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        return self

    def start(self, args: list[str], env: dict | None = None, log: str | None = None):
        out = open(self.tmp / log, "wb") if log else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)  # its own group: see _stop
        finally:
            if log:
                out.close()  # the child has its own copy
        self.started.append(proc)
        return proc

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.started):
            _stop(proc)
        signal.signal(signal.SIGTERM, self._old)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _exit_on_sigterm(_signum, _frame):
    raise SystemExit(143)


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the process group we created for `proc` (gunicorn's workers included)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


def start_redis(procs: Processes) -> str:
    """A throwaway redis-server on a free loopback port (no persistence). Returns its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server is not installed (make test / make bench install it)")
    port = free_port()
    proc = procs.start([exe, "--port", str(port), "--bind", HOST, "--save", "",
                        "--appendonly", "no", "--dir", str(procs.tmp)], log="redis.log")
    wait_for_port(port, proc=proc)
    return f"redis://{HOST}:{port}/0"


def start_dashboard(procs: Processes, port: int, redis_url: str | None = None,
                    workers: int = 0, gunicorn_args: tuple[str, ...] = ()) -> str:
    """The lab on 127.0.0.1:port: `python -m dashboard` (workers 0) or `gunicorn -w workers`.
    Returns its base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPLAB_")}
    if redis_url:
        env["MLPLAB_REDIS_URL"] = redis_url
    if workers:
        args = [PYTHON, "-m", "gunicorn", "-w", str(workers), "-b", f"{HOST}:{port}",
                "--no-control-socket", *gunicorn_args, "dashboard.app:server"]
    else:
        args = [PYTHON, "-m", "dashboard", "--host", HOST, "--port", str(port)]
    proc = procs.start(args, env=env, log="server.log")
    wait_for_port(port, timeout=60, proc=proc)
    return f"http://{HOST}:{port}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process `pid` and its living children
    (gunicorn's workers), from /proc; 0.0 where /proc cannot tell."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: parent pid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


# ------------------------------------------------------------------------------ figures
def percentile(values, q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation; NaN for no values."""
    xs = sorted(values)
    if not xs:
        return math.nan
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(values) -> float:
    return percentile(values, 50)


def fmt(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: list[str], rows: list[list]) -> str:
    """A plain-text table: first column left-aligned, the rest right-aligned."""
    cells = [headers] + [[fmt(c) if not isinstance(c, str) else c for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths, strict=True)))

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)]
                     + [line(r) for r in cells[1:]])


def machine() -> dict:
    """CPU count, model name, load averages and the date: context for every figure."""
    model = platform.processor() or platform.machine()
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                model = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "model": model,
            "load": [round(x, 2) for x in os.getloadavg()],
            "date": time.strftime("%Y-%m-%d %H:%M %Z"), "python": platform.python_version()}


def describe(m: dict) -> str:
    return (f"{m['cpus']} CPUs ({m['model']}), load average {m['load'][0]:.2f} "
            f"{m['load'][1]:.2f} {m['load'][2]:.2f}, {m['date']}")
