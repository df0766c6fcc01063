"""Issue 8 in a real headless Chromium: a CSV uploaded through the Data tab (a rejected one
first, with its exact reason), trained on, its class names on the confusion matrix; and a
built-in spiral picked from the data dropdown and trained. Expected numbers come from mlpcore
run directly."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import free_port, until
from flask import request
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from test_dash_browser import (
    graph,
    press,
    slider_keys,
    start,
    status,
    text_is,
    wait_state,
    wait_synced,
)
from test_dash_compare_browser import open_tab

from dashboard import ids
from dashboard.app import create_app
from dashboard.panels import data as panel
from dashboard.sessions import MemoryStore
from mlpcore import Config, Trainer, make_dataset
from mlpcore.csvdata import csv_dataset

pytestmark = pytest.mark.browser

TREES = b"height,girth,leaf,tree\n" + b"".join(
    f"{10 + 3 * k + (i % 5) * 0.7:.1f},{1 + k + (i * 7 % 11) / 10:.2f},"
    f"{(i * 3 % 8) / 4 + k * 0.5:.2f},{('ash', 'birch', 'cedar')[k]}\n".encode()
    for i in range(20) for k in range(3))
BAD = b"height,girth,tree\n12,1.5,ash\n13,oops,birch\n14,2.5,ash\n15,3,birch\n"


def last(trainer, key):
    """The last point of a history curve (what the status line shows)."""
    return trainer.history.since(0)[key][-1]


def upload(browser, path) -> None:
    browser.find_element(f"#{panel.UPLOAD_DATA} input[type=file]").send_keys(str(path))


def text(browser, element_id) -> str:
    return browser.find_element(f"#{element_id}").text


def choose(browser, dropdown_id: str, option_text: str) -> None:
    """Open a Dash dropdown and click the option with this text (its list is a popover)."""
    browser.find_element(f"#{dropdown_id}").click()
    until(lambda: any(o.text == option_text for o in browser.driver.find_elements(
        By.CSS_SELECTOR, ".dash-dropdown-option")), timeout=5)
    next(o for o in browser.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
         if o.text == option_text).click()


def visible(browser, element_id) -> bool:
    return browser.find_element(f"#{element_id}").is_displayed()


def test_upload_a_csv_train_on_it_and_see_its_classes(dash_duo, tmp_path):
    start(dash_duo)
    open_tab(dash_duo, "Data")
    until(lambda: "Iris (the document's data): 150 rows" in text(dash_duo, panel.DIV_CURRENT),
          timeout=10)
    before = status(dash_duo)

    huge = tmp_path / "huge.csv"  # base64 of it is over the 8 MiB request cap
    huge.write_bytes(b"a,label\n" + b"1,x\n" * (13 * 2**20 // 8))
    upload(dash_duo, huge)
    until(lambda: text(dash_duo, panel.DIV_MESSAGE) == (
        "huge.csv was not accepted: The file is larger than the limit of 5.0 MB."), timeout=10)

    bad = tmp_path / "bad trees.csv"
    bad.write_bytes(BAD)
    upload(dash_duo, bad)
    message = ('bad trees.csv was not accepted: column "girth", row 2 (data rows count from 1 '
               'below the header; spreadsheet row 3): "oops" is not a number.')
    until(lambda: text(dash_duo, panel.DIV_MESSAGE) == message, timeout=10)
    assert not dash_duo.find_element(f"#{panel.BUTTON_USE}").is_enabled()
    assert status(dash_duo) == before  # the run is untouched

    good = tmp_path / "trees.csv"
    good.write_bytes(TREES)
    upload(dash_duo, good)
    until(lambda: "trees.csv: 60 rows, 3 feature columns, label column tree with 3 classes"
          in text(dash_duo, panel.DIV_PREVIEW), timeout=10)
    assert "ash 20" in text(dash_duo, panel.DIV_PREVIEW)
    press(dash_duo, panel.BUTTON_USE)
    until(lambda: "New run on your CSV trees.csv" in status(dash_duo)[2], timeout=10)
    until(lambda: text(dash_duo, ids.DROPDOWN_DATA) == "your CSV: trees.csv", timeout=5)
    until(lambda: "your CSV: trees.csv: 60 rows (30 training, 30 test), 3 features"
          in text(dash_duo, panel.DIV_CURRENT), timeout=10)
    assert not visible(dash_duo, ids.DIV_DATA_POINTS)  # a CSV has no points slider

    slider_keys(dash_duo, ids.SLIDER_SPEED, Keys.END)
    text_is(dash_duo, ids.TEXT_SPEED, "as fast as possible")
    press(dash_duo, ids.BUTTON_TRAIN)
    state, iteration, _text = wait_state(dash_duo, "maxit", "abstol", "diverged")
    reference = Trainer(Config.document(), csv_dataset(TREES, name="trees.csv"))
    reference.step(3000)
    assert (state, iteration) == (reference.status, reference.iteration)
    confusion = graph(dash_duo, ids.GRAPH_CONFUSION)[0]
    assert confusion["x"] == confusion["y"] == ["ash", "birch", "cedar"]
    assert confusion["z"] == reference.confusion("test").tolist()
    assert graph(dash_duo, ids.GRAPH_WEIGHTS)[0]["y"] == ["height", "girth", "leaf", "b1"]
    assert f"test accuracy {last(reference, 'test_acc'):.4f}" in status(dash_duo)[2]

    press(dash_duo, ids.BUTTON_RESET)  # rebuilt from the stored CSV
    wait_state(dash_duo, "ready", iteration=0, timeout=10)
    assert graph(dash_duo, ids.GRAPH_CONFUSION)[0]["x"] == ["ash", "birch", "cedar"]
    assert dash_duo.get_logs() == []


def start_counting(browser) -> list:
    """Start the app; returns the list that collects each callback request's output key."""
    app = create_app(MemoryStore())
    posted = []

    @app.server.before_request
    def _count():
        if request.path == "/_dash-update-component":
            posted.append(request.get_json()["output"])

    browser.start_server(app, port=free_port())
    wait_synced(browser)
    return posted


def test_pick_spiral_and_train(dash_duo):
    posted = start_counting(dash_duo)
    assert not visible(dash_duo, ids.DIV_DATA_NOISE)  # iris has no parameters
    choose(dash_duo, ids.DROPDOWN_DATA, "Spiral (CS231n)")
    until(lambda: "New run: data iris → spiral." in status(dash_duo)[2], timeout=10)
    until(lambda: visible(dash_duo, ids.DIV_DATA_NOISE), timeout=5)
    assert text(dash_duo, ids.TEXT_DATA_INFO).startswith("K spiral arms")
    assert text(dash_duo, ids.TEXT_DATA_CLASSES) == "3"
    until(lambda: graph(dash_duo, ids.GRAPH_CONFUSION)[0]["x"] == ["arm 1", "arm 2", "arm 3"],
          timeout=5)
    slider_keys(dash_duo, ids.SLIDER_DATA_CLASSES, Keys.ARROW_RIGHT)  # 4 arms: a new run
    until(lambda: "New run: classes 3 → 4." in status(dash_duo)[2], timeout=10)
    slider_keys(dash_duo, ids.SLIDER_SPEED, Keys.END)
    text_is(dash_duo, ids.TEXT_SPEED, "as fast as possible")
    press(dash_duo, ids.BUTTON_TRAIN)
    state, iteration, status_text = wait_state(dash_duo, "maxit", "abstol", "diverged")
    reference = Trainer(Config.document(), make_dataset("spiral", 1, n_classes=4))
    reference.step(3000)
    assert (state, iteration) == (reference.status, reference.iteration)
    assert f"test accuracy {last(reference, 'test_acc'):.4f}" in status_text
    confusion = graph(dash_duo, ids.GRAPH_CONFUSION)[0]
    assert confusion["x"] == [f"arm {k}" for k in range(1, 5)]
    assert np.array(confusion["z"]).sum() == 200  # half of 4 x 100 points
    assert confusion["z"] == reference.confusion("test").tolist()
    assert graph(dash_duo, ids.GRAPH_WEIGHTS)[0]["y"] == ["x1", "x2", "b1"]
    # the Data tab is closed: its description never cost a request, however many ticks ran
    ticks = [p for p in posted if p.startswith("..curves-graph")]
    assert len(ticks) >= 4 and not [p for p in posted if panel.DIV_CURRENT in p]
    open_tab(dash_duo, "Data")  # opened: one request, for the run it shows
    until(lambda: "Spiral (CS231n): 400 rows" in text(dash_duo, panel.DIV_CURRENT), timeout=10)
    assert len([p for p in posted if panel.DIV_CURRENT in p]) == 1

    press(dash_duo, ids.BUTTON_DOCUMENT)  # back to iris and the document's split
    until(lambda: text(dash_duo, ids.DROPDOWN_DATA) == "Iris (the document's data)", timeout=5)
    wait_state(dash_duo, "ready", iteration=0, timeout=10)
    until(lambda: graph(dash_duo, ids.GRAPH_CONFUSION)[0]["x"] == ["setosa", "versicolor",
                                                                   "virginica"], timeout=5)
    assert not visible(dash_duo, ids.DIV_DATA_NOISE)
    until(lambda: "Iris (the document's data): 150 rows" in text(dash_duo, panel.DIV_CURRENT),
          timeout=10)  # a new run while the tab is open: described again
    assert dash_duo.get_logs() == []
