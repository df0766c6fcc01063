"""The lab in a real headless Chromium (dash_duo): what only a browser can show.

Expected numbers come from mlpcore run directly; the document's own facts (3000 iterations,
0.9867, the 25/24/1/25 confusion table, 60 points) are asserted as well.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import free_port, until, wait_for_port
from selenium.webdriver.common.keys import Keys

from dashboard import ids
from dashboard.app import create_app
from dashboard.figures import CURVE_DIGITS, rounded
from dashboard.layout import TITLE
from dashboard.sessions import MemoryStore
from mlpcore import Config, Trainer

pytestmark = pytest.mark.browser

CONTRACT_IDS = (
    "train-button", "step-button", "reset-button", "document-button", "hidden-slider",
    "lr-slider", "reg-slider", "maxit-slider", "speed-slider", "curves-graph",
    "confusion-graph", "weights-graph", "status",
)
RUN_TIMEOUT = 30  # seconds; the document's run takes about one at top speed
REPO = Path(__file__).resolve().parent.parent

_GRAPH_JS = """
const graph = document.getElementById(arguments[0]);
const plot = graph && graph.querySelector('.js-plotly-plot');
if (!plot || !plot.data) { return null; }
return plot.data.map(t => ({name: t.name, x: t.x ? Array.from(t.x) : null,
                            y: t.y ? Array.from(t.y) : null, z: t.z || null}));
"""


# ------------------------------------------------------------------------------ helpers
def start(dash_duo):
    app = create_app(MemoryStore())
    dash_duo.start_server(app, port=free_port())
    wait_synced(dash_duo)
    return app


def wait_synced(browser):
    """Wait until the page shows a run (the first whole-figure render has arrived)."""
    until(lambda: graph(browser, ids.GRAPH_WEIGHTS), timeout=10)


def graph(browser, graph_id):
    return browser.driver.execute_script(_GRAPH_JS, graph_id)


def status(browser):
    el = browser.find_element(f"#{ids.DIV_STATUS}")
    return el.get_attribute("data-state"), int(el.get_attribute("data-iteration")), el.text


def wait_state(browser, *states, timeout=RUN_TIMEOUT, iteration=None):
    def ok():
        state, it, _text = status(browser)
        return state in states and (iteration is None or it == iteration)

    until(ok, timeout=timeout, msg=lambda: f"status stayed {status(browser)}, wanted {states}")
    return status(browser)


def press(browser, button_id):
    browser.find_element(f"#{button_id}").click()


def slider_keys(browser, slider_id, *keys):
    browser.find_element(f"#{slider_id} [role=slider]").send_keys(*keys)


def text_is(browser, element_id, text):
    browser.wait_for_text_to_equal(f"#{element_id}", text, timeout=5)


def reference(config, iterations):
    trainer = Trainer(config)
    trainer.step(iterations)
    h = trainer.history.since(0)
    return trainer, [int(s) for s in h["step"]], h


def assert_curves_match(curves, h):
    loss, acc = curves[0], curves[1]
    assert (loss["name"], acc["name"]) == ("Loss", "Accuracy")
    steps = [int(s) for s in h["step"]]
    assert loss["x"] == steps and acc["x"] == steps
    assert loss["y"] == [rounded(v, CURVE_DIGITS) for v in h["loss"]]
    assert acc["y"] == [rounded(v, CURVE_DIGITS) for v in h["test_acc"]]


def document_run_to_the_end(browser, speed_keys=(Keys.END,), speed_text="as fast as possible"):
    """Document settings -> speed -> Train -> wait for the end; checks the results."""
    press(browser, ids.BUTTON_DOCUMENT)
    until(lambda: "document's run" in status(browser)[2], timeout=10)
    wait_state(browser, "ready", iteration=0, timeout=10)
    slider_keys(browser, ids.SLIDER_SPEED, *speed_keys)
    text_is(browser, ids.TEXT_SPEED, speed_text)
    press(browser, ids.BUTTON_TRAIN)
    state, iteration, text = wait_state(browser, "maxit", "abstol", "diverged")
    trainer, steps, h = reference(Config.document(), 3000)
    assert (state, iteration) == ("maxit", 3000) == (trainer.status, trainer.iteration)
    assert "3000 / 3000" in text and "test accuracy 0.9867" in text
    assert f"{trainer.accuracy('test'):.4f}" == "0.9867"
    curves = graph(browser, ids.GRAPH_CURVES)
    assert len(curves[0]["x"]) == len(curves[1]["x"]) == 60 == len(steps)
    assert_curves_match(curves, h)
    z = graph(browser, ids.GRAPH_CONFUSION)[0]["z"]
    assert z == trainer.confusion("test").tolist() == [[25, 0, 0], [0, 24, 1], [0, 0, 25]]
    cells = browser.driver.execute_script(
        "return Array.from(document.querySelectorAll('#confusion-graph text'))"
        ".map(e => e.textContent)")
    for count in ("25", "24", "1", "0"):
        assert count in cells  # written in the cells
    assert browser.find_element(f"#{ids.BUTTON_TRAIN}").text == "Train"


# -------------------------------------------------------------------------------- tests
def test_page_loads_with_every_control_and_no_errors(dash_duo):
    start(dash_duo)
    assert dash_duo.driver.title == TITLE
    for element_id in CONTRACT_IDS:
        assert dash_duo.find_element(f"#{element_id}")
    for element_id, text in ((ids.TEXT_HIDDEN, "6"), (ids.TEXT_LR, "0.01"),
                             (ids.TEXT_REG, "0.001"), (ids.TEXT_MAXIT, "3000")):
        assert dash_duo.find_element(f"#{element_id}").text == text
    state, iteration, text = status(dash_duo)
    assert (state, iteration) == ("ready", 0) and "iteration 0 / 3000" in text
    weights = graph(dash_duo, ids.GRAPH_WEIGHTS)
    assert [t["name"] for t in weights] == ["W1", "W2"]
    slider_keys(dash_duo, ids.SLIDER_LR, Keys.ARROW_RIGHT)
    text_is(dash_duo, ids.TEXT_LR, "0.015")  # the read-out follows the slider
    assert dash_duo.get_logs() == []


def test_document_run_at_top_speed(dash_duo):
    start(dash_duo)
    document_run_to_the_end(dash_duo)
    assert dash_duo.get_logs() == []


def test_pause_reset_and_new_settings(dash_duo):
    start(dash_duo)
    slider_keys(dash_duo, ids.SLIDER_SPEED, Keys.HOME)  # one iteration per update
    text_is(dash_duo, ids.TEXT_SPEED, "1 / update")
    press(dash_duo, ids.BUTTON_TRAIN)
    until(lambda: status(dash_duo)[0] == "running" and status(dash_duo)[1] >= 3, timeout=10)
    assert dash_duo.find_element(f"#{ids.BUTTON_TRAIN}").text == "Pause"

    press(dash_duo, ids.BUTTON_TRAIN)  # Pause
    _state, paused_at, text = wait_state(dash_duo, "paused", timeout=10)
    assert "Paused" in text
    time.sleep(0.6)  # several tick intervals: nothing may move
    assert status(dash_duo)[:2] == ("paused", paused_at)

    press(dash_duo, ids.BUTTON_STEP)  # to the next display step
    wait_state(dash_duo, "paused", iteration=50, timeout=10)
    until(lambda: graph(dash_duo, ids.GRAPH_CURVES)[0]["x"] == [50], timeout=5)

    press(dash_duo, ids.BUTTON_RESET)
    wait_state(dash_duo, "ready", iteration=0, timeout=10)
    until(lambda: graph(dash_duo, ids.GRAPH_CURVES)[0]["x"] == [], timeout=5)

    press(dash_duo, ids.BUTTON_TRAIN)
    wait_state(dash_duo, "running", timeout=10)
    slider_keys(dash_duo, ids.SLIDER_HIDDEN, Keys.ARROW_RIGHT)  # 6 -> 7: a new run
    text_is(dash_duo, ids.TEXT_HIDDEN, "7")
    until(lambda: "hidden units 6 → 7" in status(dash_duo)[2], timeout=10)
    assert status(dash_duo)[:2] == ("ready", 0)
    until(lambda: len(graph(dash_duo, ids.GRAPH_WEIGHTS)[0]["x"]) == 7, timeout=5)
    assert graph(dash_duo, ids.GRAPH_CURVES)[0]["x"] == []
    assert dash_duo.get_logs() == []


def test_two_tabs_train_at_once_without_mixing(dash_duo):
    start(dash_duo)
    driver = dash_duo.driver
    first = driver.current_window_handle
    press(dash_duo, ids.BUTTON_DOCUMENT)
    until(lambda: "document's run" in status(dash_duo)[2], timeout=10)
    slider_keys(dash_duo, ids.SLIDER_SPEED, Keys.END, Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    text_is(dash_duo, ids.TEXT_SPEED, "500 / update")

    driver.switch_to.new_window("window")
    second = driver.current_window_handle
    driver.get(dash_duo.server_url)
    wait_synced(dash_duo)
    slider_keys(dash_duo, ids.SLIDER_HIDDEN, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)  # 8 units
    until(lambda: "hidden units 6 → 8" in status(dash_duo)[2], timeout=10)
    # the default speed (50 / update: seconds for the run), so this tab is surely seen
    # running, and still runs while the first one trains at 500 / update
    text_is(dash_duo, ids.TEXT_SPEED, "50 / update")
    press(dash_duo, ids.BUTTON_TRAIN)
    wait_state(dash_duo, "running", timeout=10)

    driver.switch_to.window(first)
    press(dash_duo, ids.BUTTON_TRAIN)
    wait_state(dash_duo, "running", "maxit", timeout=10)
    driver.switch_to.window(second)
    second_state = status(dash_duo)
    driver.switch_to.window(first)
    wait_state(dash_duo, "maxit")
    _t, _s, h_first = reference(Config.document(), 3000)
    assert_curves_match(graph(dash_duo, ids.GRAPH_CURVES), h_first)

    driver.switch_to.window(second)
    wait_state(dash_duo, "maxit")
    _t, _s, h_second = reference(Config.document().replace(hidden=(8,)), 3000)
    assert_curves_match(graph(dash_duo, ids.GRAPH_CURVES), h_second)
    assert len(graph(dash_duo, ids.GRAPH_WEIGHTS)[0]["x"]) == 8
    assert second_state[0] in ("running", "maxit")  # it was training while the first ran
    assert dash_duo.get_logs() == []


@pytest.mark.redis
def test_gunicorn_two_workers_share_sessions_through_redis(redis_server, dash_br, tmp_path):
    """`gunicorn -w 2` with MLPLAB_REDIS_URL: the run's requests land on both workers and the
    page ends with the same 60 points and final numbers as the core computes."""
    port = free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    env = {**os.environ, "MLPLAB_REDIS_URL": redis_server}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--access-logfile", str(access), "--access-logformat", "%(p)s %(r)s %(s)s",
         "--error-logfile", str(errors), "--no-control-socket", "dashboard.app:server"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=30)
        dash_br.server_url = f"http://127.0.0.1:{port}"
        wait_synced(dash_br)
        document_run_to_the_end(dash_br, (Keys.END,) + (Keys.ARROW_LEFT,) * 3, "200 / update")
        assert dash_br.get_logs() == []
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    callback_lines = [line.split()[0] for line in access.read_text().splitlines()
                      if "_dash-update-component" in line]
    assert all(" 200" in line or " 204" in line for line in access.read_text().splitlines()
               if "_dash-update-component" in line)
    assert len(set(callback_lines)) == 2, "both workers should have served the run"
    assert "Traceback" not in errors.read_text()
