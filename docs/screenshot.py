"""Take the README's screenshot: the lab after the document's run, in headless Chromium.

    .venv/bin/python docs/screenshot.py [--out docs/screenshot.png]     (or: make screenshot)

Starts the app on a free loopback port in this process, presses Document settings and
Train, waits for the run to finish and saves a 1280x800 PNG.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium(width: int, height: int):
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--hide-scrollbars",
                f"--window-size={width},{height}", f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(arg)
    if shutil.which("chromium"):
        options.binary_location = shutil.which("chromium")
    return webdriver.Chrome(options=options)


def wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"screenshot: timed out waiting for {what}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshot.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args(argv)

    import logging

    from dashboard.app import create_app
    from dashboard.sessions import MemoryStore

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    app, port = create_app(MemoryStore()), free_port()
    threading.Thread(target=lambda: app.run(port=port, debug=False), daemon=True).start()
    driver = chromium(args.width, args.height)
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        state = lambda: driver.execute_script(  # noqa: E731
            "const s = document.getElementById('status'); return s && s.dataset.state;")
        wait(lambda: state() == "ready", 20, "the page to load")
        driver.find_element("id", "document-button").click()
        time.sleep(0.5)
        driver.find_element("id", "train-button").click()
        wait(lambda: state() == "maxit", 60, "the document's run to finish")
        time.sleep(1.0)  # let the last frame paint
        driver.save_screenshot(args.out)
        print(f"saved {args.out}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
