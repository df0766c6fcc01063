"""The Compare tab in headless Chromium: pinned runs on the curves plot, and the lr x reg sweep
on Dash's DiskcacheManager (a child process of the server), with progress, Cancel, the heatmap
and a click on a cell."""

from __future__ import annotations

import psutil
import pytest
from conftest import free_port, until
from selenium.webdriver.common.keys import Keys
from test_dash_browser import graph, press, slider_keys, status, text_is, wait_state

from dashboard import ids
from dashboard.app import create_app
from dashboard.figures import rounded
from dashboard.panels import compare
from dashboard.sessions import MemoryStore
from mlpcore import Config
from mlpcore.sweep import sweep

pytestmark = pytest.mark.browser
LIVE = 4  # live traces before the pin slots


def start(browser):
    browser.start_server(create_app(MemoryStore()), port=free_port())
    until(lambda: graph(browser, ids.GRAPH_WEIGHTS), timeout=10)
    open_tab(browser, "Compare")


def open_tab(browser, label):
    for tab in browser.driver.find_elements("css selector", ".panel-tab"):
        if tab.text == label:  # in the middle of the window: the sticky header hides the top
            browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tab)
            tab.click()
            return
    raise AssertionError(f"no tab {label}")


def text(browser, element_id):
    return browser.find_element(f"#{element_id}").text


def pin_traces(browser):
    return [t for t in graph(browser, ids.GRAPH_CURVES)[LIVE:] if t["name"]]


def choose(browser, dropdown_id, labels):
    """Make a multi-select dcc.Dropdown (Dash 4) hold exactly the options `labels`."""
    browser.find_element(f"#{dropdown_id}").click()
    until(lambda: browser.driver.find_elements(
        "css selector", ".dash-dropdown-content .dash-options-list-option"), timeout=5)
    options = browser.driver.find_elements(
        "css selector", ".dash-dropdown-content .dash-options-list-option")
    states = browser.driver.execute_script(
        "return arguments[0].map(o => [o.textContent.trim(),"
        " o.getAttribute('aria-selected') === 'true'])", options)  # one round trip for all
    for option, (label, chosen) in zip(options, states, strict=True):
        if chosen != (label in labels):
            option.click()
    browser.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    until(lambda: browser.driver.execute_script(  # (find_elements would wait to find none)
        "return document.querySelector('.dash-dropdown-content') === null"), timeout=5)


def set_iterations(browser, n):
    box = browser.find_element(f"#{compare.INPUT_SWEEP_ITERATIONS}")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(n), Keys.TAB)


def press_centered(browser, element_id):
    """Click an element after scrolling it to the middle (the sticky header covers the top)."""
    element = browser.find_element(f"#{element_id}")
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def click_cell(browser, graph_id, fx, fy):
    """A click at (fx, fy) of a graph's plot area as Plotly sees one: a hover, then a press.
    (WebDriver's pointer actions do not reach Plotly's drag layer in headless Chromium.)"""
    plot = browser.find_element(f"#{graph_id} .nsewdrag")
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", plot)
    fire = ("const el = arguments[0], r = el.getBoundingClientRect();"
            "el.dispatchEvent(new MouseEvent(arguments[1], {bubbles: true, cancelable: true,"
            " view: window, clientX: r.left + r.width * arguments[2],"
            " clientY: r.top + r.height * arguments[3], buttons: arguments[4]}));")
    browser.driver.execute_script(fire, plot, "mousemove", fx, fy, 0)
    hovered = (f"const h = document.querySelector('#{graph_id} .js-plotly-plot')._hoverdata;"
               " return Boolean(h && h.length);")
    until(lambda: browser.driver.execute_script(hovered), timeout=5)
    for kind, buttons in (("mousedown", 1), ("mouseup", 0), ("click", 0)):
        browser.driver.execute_script(fire, plot, kind, fx, fy, buttons)


def progress(browser):
    bar = browser.find_element(f"#{compare.PROGRESS_SWEEP}")
    return int(float(bar.get_attribute("value"))), int(float(bar.get_attribute("max")))


def sweep_jobs():
    """The Diskcache manager's job processes still running: children of this process (the
    test's server runs in it) forked from it, so with its command line."""
    me = psutil.Process()
    return [p for p in me.children() if p.status() != psutil.STATUS_ZOMBIE
            and p.cmdline() == me.cmdline()]


# -------------------------------------------------------------------------------- pins
def test_pin_two_runs_keep_them_through_reset_and_remove_one(dash_duo):
    start(dash_duo)
    press(dash_duo, ids.BUTTON_STEP)
    wait_state(dash_duo, "paused", iteration=50, timeout=10)
    press(dash_duo, compare.BUTTON_PIN)
    until(lambda: text(dash_duo, compare.TEXT_PIN_NOTE) == "Pinned as pin 1.", timeout=5)

    slider_keys(dash_duo, ids.SLIDER_LR, Keys.ARROW_RIGHT)  # 0.015, then a new run with it
    text_is(dash_duo, ids.TEXT_LR, "0.015")
    press(dash_duo, ids.BUTTON_RESET)
    wait_state(dash_duo, "ready", iteration=0, timeout=10)
    until(lambda: graph(dash_duo, ids.GRAPH_CURVES)[0]["x"] == [], timeout=5)
    pins = pin_traces(dash_duo)  # the new run's whole figure carries the pin
    assert [t["name"] for t in pins] == ["pin 1: lr 0.01, reg 0.001",
                                         "pin 1: lr 0.01, reg 0.001 · accuracy"]
    assert pins[0]["x"] == [50]

    press(dash_duo, ids.BUTTON_STEP)
    wait_state(dash_duo, "paused", iteration=50, timeout=10)
    press(dash_duo, ids.BUTTON_STEP)
    wait_state(dash_duo, "paused", iteration=100, timeout=10)
    press(dash_duo, compare.BUTTON_PIN)
    until(lambda: text(dash_duo, compare.TEXT_PIN_NOTE) == "Pinned as pin 2.", timeout=5)
    until(lambda: len(pin_traces(dash_duo)) == 4, timeout=5)
    names = [t["name"] for t in pin_traces(dash_duo)]
    assert names == ["pin 1: lr 0.01, reg 0.001", "pin 1: lr 0.01, reg 0.001 · accuracy",
                     "pin 2: lr 0.015, reg 0.001", "pin 2: lr 0.015, reg 0.001 · accuracy"]
    opacity = dash_duo.driver.execute_script(
        "return document.querySelector('#curves-graph .js-plotly-plot').data"
        ".map(t => t.opacity)")
    assert opacity[:LIVE] == [None] * LIVE and opacity[LIVE:LIVE + 4] == [0.35] * 4  # faded
    curves = graph(dash_duo, ids.GRAPH_CURVES)
    assert curves[0]["x"] == [50, 100] and pin_traces(dash_duo)[2]["x"] == [50, 100]
    table = text(dash_duo, compare.TBODY_PINS)
    assert "pin 1 lr 0.01, reg 0.001" in table and "pin 2 lr 0.015, reg 0.001" in table
    assert "current lr 0.015, reg 0.001" in text(dash_duo, compare.TBODY_CURRENT)

    dash_duo.find_element('[id=\'{"pin":2,"type":"pin-show"}\']').click()  # hide pin 2
    until(lambda: text(dash_duo, compare.TEXT_PIN_NOTE) == "Pin 2 hidden.", timeout=5)
    until(lambda: graph(dash_duo, ids.GRAPH_CURVES)[LIVE + 2]["name"].startswith("pin 2"),
          timeout=5)
    visible = dash_duo.driver.execute_script(
        "return document.querySelector('#curves-graph .js-plotly-plot').data"
        ".map(t => t.visible)")
    assert visible[LIVE:LIVE + 4] == [True, True, False, False]

    dash_duo.find_element('[id=\'{"pin":1,"type":"pin-remove"}\']').click()
    until(lambda: text(dash_duo, compare.TEXT_PIN_NOTE) == "Pin 1 removed.", timeout=5)
    until(lambda: [t["name"] for t in pin_traces(dash_duo)] == [
        "pin 2: lr 0.015, reg 0.001", "pin 2: lr 0.015, reg 0.001 · accuracy"], timeout=5)
    assert "pin 1" not in text(dash_duo, compare.TBODY_PINS)
    press(dash_duo, ids.BUTTON_STEP)  # the live curves still grow by Patch after all that
    wait_state(dash_duo, "paused", iteration=150, timeout=10)
    until(lambda: graph(dash_duo, ids.GRAPH_CURVES)[0]["x"] == [50, 100, 150], timeout=5)
    assert dash_duo.get_logs() == []


# ------------------------------------------------------------------------------- sweep
def test_sweep_on_diskcache_progress_heatmap_and_a_cell_click(dash_duo):
    start(dash_duo)
    choose(dash_duo, compare.DROPDOWN_SWEEP_LR, {"0.1", "1"})
    choose(dash_duo, compare.DROPDOWN_SWEEP_REG, {"0", "0.001"})
    set_iterations(dash_duo, 300)
    press(dash_duo, compare.BUTTON_SWEEP)
    until(lambda: text(dash_duo, compare.TEXT_SWEEP_NOTE).startswith("Done: 4 cells"),
          timeout=30)
    assert progress(dash_duo) == (4, 4) and text(dash_duo, compare.TEXT_SWEEP_PROGRESS) == \
        "4 of 4 cells"
    expected = sweep(Config.document(), [0.1, 1.0], [0.0, 0.001], 300)
    until(lambda: graph(dash_duo, compare.GRAPH_SWEEP)[0]["x"] == ["0.1", "1"], timeout=5)
    heatmap = graph(dash_duo, compare.GRAPH_SWEEP)[0]
    assert heatmap["z"] == [[rounded(v, 4) for v in row]
                            for row in expected.grid("test_accuracy")]
    dash_duo.find_element(f"#{compare.RADIO_SWEEP_METRIC} input[value=loss]").click()
    until(lambda: graph(dash_duo, compare.GRAPH_SWEEP)[0]["z"] == [
        [rounded(v, 4) for v in row] for row in expected.grid("loss")], timeout=5)
    assert not dash_duo.find_element(f"#{compare.BUTTON_SWEEP}").get_attribute("disabled")
    assert dash_duo.find_element(f"#{compare.BUTTON_SWEEP_CANCEL}").get_attribute("disabled")

    click_cell(dash_duo, compare.GRAPH_SWEEP, 0.75, 0.25)  # top right: lr 1, reg 0
    text_is(dash_duo, ids.TEXT_LR, "1")
    text_is(dash_duo, ids.TEXT_REG, "0")
    assert "no reset" in text(dash_duo, compare.TEXT_SWEEP_NOTE)
    assert status(dash_duo)[:2] == ("ready", 0)  # the run is the same one: lr applies live
    assert dash_duo.get_logs() == []


def test_sweep_cancel_stops_it_and_keeps_the_finished_cells(dash_duo):
    start(dash_duo)
    choose(dash_duo, compare.DROPDOWN_SWEEP_LR, {"0.001", "0.01", "0.1", "1"})
    choose(dash_duo, compare.DROPDOWN_SWEEP_REG, {"0", "0.001", "0.01", "0.1"})
    set_iterations(dash_duo, 20000)  # 16 cells of ~0.25 s each
    press(dash_duo, compare.BUTTON_SWEEP)
    until(lambda: progress(dash_duo)[0] >= 1, timeout=30)
    assert not dash_duo.find_element(f"#{compare.BUTTON_SWEEP_CANCEL}").get_attribute(
        "disabled")
    assert dash_duo.find_element(f"#{compare.BUTTON_SWEEP}").get_attribute("disabled")
    press(dash_duo, compare.BUTTON_SWEEP_CANCEL)
    until(lambda: text(dash_duo, compare.TEXT_SWEEP_NOTE).startswith("Cancelled after"),
          timeout=10)
    until(lambda: not dash_duo.find_element(f"#{compare.BUTTON_SWEEP}").get_attribute(
        "disabled"), timeout=10)
    done = progress(dash_duo)[0]
    assert 1 <= done < 16
    title = dash_duo.driver.execute_script(
        "return document.querySelector('#sweep-graph .js-plotly-plot').layout.title.text")
    assert f"({done} of 16 cells)" in title  # the cells that finished stay on the heatmap
    until(lambda: not sweep_jobs(), timeout=10)  # the job's process is gone
    assert progress(dash_duo)[0] == done
    choose(dash_duo, compare.DROPDOWN_SWEEP_LR, {"0.1"})
    choose(dash_duo, compare.DROPDOWN_SWEEP_REG, {"0"})
    set_iterations(dash_duo, 100)
    press(dash_duo, compare.BUTTON_SWEEP)
    until(lambda: text(dash_duo, compare.TEXT_SWEEP_NOTE).startswith("Done: 1 cells"),
          timeout=30)
    assert progress(dash_duo) == (1, 1)
    assert dash_duo.get_logs() == []
