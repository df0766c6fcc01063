"""Issue 7's panels in headless Chromium: the math inspector (typeset locally, once; live
numbers equal to mlpcore's), the gradient check, the decision boundary and its clicks, the
confusion-matrix pick, training health with dead units, and the divergence explainer."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import free_port, until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from test_dash_browser import status, wait_state
from test_dash_compare_browser import open_tab

from dashboard import ids
from dashboard.app import create_app
from dashboard.markup_inside import shown
from dashboard.panels import boundary, health, inspector
from dashboard.sessions import MemoryStore
from mlpcore import Config, Trainer
from mlpcore.anatomy import anatomy

pytestmark = pytest.mark.browser


# ------------------------------------------------------------------------------ helpers
def start(dash_duo):
    dash_duo.start_server(create_app(MemoryStore()), port=free_port())
    until(lambda: dash_duo.driver.execute_script(
        "var g = document.querySelector('#weights-graph .js-plotly-plot');"
        "return !!(g && g.data && g.data.length);"), timeout=10)


def tab_selected(browser, label) -> bool:
    return bool(browser.driver.find_elements(
        By.XPATH, f"//div[contains(@class, 'panel-tab-selected') and normalize-space()="
                  f"'{label}']"))


def cells(browser, name):
    """The texts of a card's table cells, row by row."""
    return browser.driver.execute_script(
        "var rows = document.querySelectorAll('[data-q=\"' + arguments[0] + '\"] .heat tbody tr');"
        "return Array.from(rows).map(r => Array.from(r.querySelectorAll('td'))"
        ".map(td => td.textContent));", name)


def head_text(browser):
    return browser.find_element(f"#{inspector.DIV_HEAD}").text


def slider_keys(browser, slider_id, *keys):
    browser.find_element(f"#{slider_id} [role=slider]").send_keys(*keys)


def entry(trainer, name, row):
    return next(e["value"] for e in anatomy(trainer, rows=row)["entries"] if e["name"] == name)


def click_plot_at(browser, graph_id, x, y, xaxis="xaxis", yaxis="yaxis"):
    """A real mouse click at data coordinates (x, y) of a dcc.Graph (Plotly picks the point
    under the mouse, as for a person). Category axes: x, y are category positions."""
    drag = browser.find_element(f"#{graph_id} .nsewdrag")
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", drag)
    dx, dy = browser.driver.execute_script(
        "var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');"
        "var xa = gd._fullLayout[arguments[3]], ya = gd._fullLayout[arguments[4]];"
        "return [xa.l2p(xa.d2l(arguments[1])), ya.l2p(ya.d2l(arguments[2]))];",
        graph_id, x, y, xaxis, yaxis)
    # from the element's centre (move_to_element_with_offset's origin differs by version)
    ActionChains(browser.driver).move_to_element(drag).move_by_offset(
        int(dx - drag.size["width"] / 2), int(dy - drag.size["height"] / 2)
    ).pause(0.2).click().perform()


# -------------------------------------------------------------------------------- tests
def test_inspector_typesets_once_and_shows_mlpcores_numbers_live(dash_duo):
    start(dash_duo)
    open_tab(dash_duo, "Inside the math")
    reference = Trainer(Config.document())  # the page's run: the document's, not started
    dscores = entry(reference, "dscores", 0)
    until(lambda: cells(dash_duo, "dscores") == [[shown(v) for v in dscores[0]]], timeout=10)
    card = dash_duo.find_element("[data-q=dscores]")
    assert "Op.[14]" in card.text and "1 × 3" in card.text
    assert "Training sample 1 of 75" in head_text(dash_duo)
    # MathJax, served by the app: every formula typeset, nothing fetched from elsewhere
    until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('.inside-body .formula mjx-container').length")
        == len(dash_duo.find_elements(".inside-body .card")), timeout=15)
    resources = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(r.startswith(dash_duo.server_url) for r in resources), \
        [r for r in resources if not r.startswith(dash_duo.server_url)]
    # the ReLU mask: inactive units hatched in dhidden
    h = entry(reference, "h1", 0)[0]
    masked = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('[data-q=dhidden1] td'))"
        ".map(td => td.classList.contains('m'))")
    assert masked == [bool(v <= 0) for v in h] and any(masked)

    # live: Step trains 50 iterations; the numbers follow, the typeset formulas stay put
    dash_duo.driver.execute_script(
        "document.querySelector('[data-q=dscores] mjx-container').dataset.kept = 'yes'")
    dash_duo.find_element(f"#{ids.BUTTON_STEP}").click()
    wait_state(dash_duo, "paused", iteration=50)
    reference.step(50)
    dscores = entry(reference, "dscores", 0)
    until(lambda: cells(dash_duo, "dscores") == [[shown(v) for v in dscores[0]]], timeout=10)
    assert dash_duo.driver.execute_script(
        "var m = document.querySelector('[data-q=dscores] mjx-container');"
        "return m && m.dataset.kept") == "yes"

    # the next sample, then the whole training set
    dash_duo.find_element(f"#{inspector.BUTTON_NEXT}").click()
    until(lambda: "Training sample 2 of 75" in head_text(dash_duo), timeout=10)
    probs = entry(reference, "probs", 1)
    until(lambda: cells(dash_duo, "probs") == [[shown(v) for v in probs[0]]], timeout=10)
    dash_duo.driver.find_element(
        By.CSS_SELECTOR, f"#{inspector.RADIO_MODE} input[value=batch]").click()
    until(lambda: "All 75 training rows at once" in head_text(dash_duo), timeout=10)
    until(lambda: len(cells(dash_duo, "h1")) == 8, timeout=10)
    assert "75 × 6" in dash_duo.find_element("[data-q=h1]").text

    # the gradient check, on demand
    dash_duo.find_element(f"#{inspector.BUTTON_GRADCHECK}").click()
    until(lambda: len(dash_duo.find_elements(".gradcheck-table tbody tr")) == 4, timeout=15)
    verdicts = [e.text for e in dash_duo.find_elements(".gradcheck-table .verdict")]
    assert verdicts and set(verdicts) <= {"good", "acceptable"}, verdicts
    assert "1e-07 good" in dash_duo.find_element(".gradcheck").text
    assert dash_duo.get_logs() == []


def test_boundary_plot_and_clicks_pick_the_inspected_sample(dash_duo):
    start(dash_duo)
    dash_duo.find_element(f"#{ids.BUTTON_STEP}").click()
    wait_state(dash_duo, "paused", iteration=50)
    open_tab(dash_duo, "Decision boundary")
    js = (f"var gd = document.querySelector('#{boundary.GRAPH_BOUNDARY} .js-plotly-plot');"
          "return gd && gd.data && gd.data.length ? gd.data.map(t => [t.type, "
          "t.x ? t.x.length : 0]) : null;")
    until(lambda: dash_duo.driver.execute_script(js) is not None, timeout=10)
    traces = dash_duo.driver.execute_script(js)
    assert traces[0] == ["heatmap", 60] and traces[1] == ["scatter", 75] \
        and traces[2] == ["scatter", 75]
    assert "held at their training means" in dash_duo.find_element(
        f"#{boundary.GRAPH_BOUNDARY}").text

    # a training point standing alone (no other point within 0.15 in either feature)
    d = Trainer(Config.document()).dataset
    X = np.vstack([d.X_train, d.X_test])[:, 2:4]
    alone = next(i for i in range(75) if sum(
        np.all(np.abs(X - X[i]) < 0.15, axis=1)) == 1)
    click_plot_at(dash_duo, boundary.GRAPH_BOUNDARY, *d.X_train[alone, 2:4])
    until(lambda: tab_selected(dash_duo, "Inside the math"), timeout=10)
    until(lambda: f"Training sample {alone + 1} of 75" in head_text(dash_duo), timeout=10)
    assert "Picked on the decision boundary" in head_text(dash_duo)
    assert dash_duo.find_element(f"#{inspector.INPUT_ROW}").get_attribute("value") == \
        str(alone + 1)

    # a confusion-matrix cell: a training row of that true and predicted class
    t = Trainer(Config.document())
    t.step(50)
    pred = t.predict(d.X_train)
    k = int(d.y_train[0])
    j = int(pred[0])
    click_plot_at(dash_duo, ids.GRAPH_CONFUSION, d.class_names[j], d.class_names[k])
    matches = np.flatnonzero((d.y_train == k) & (pred == j))  # row 1 is one of them
    after = matches[matches > alone]  # the next one after the sample shown, round again
    first = int(after[0] if len(after) else matches[0]) + 1
    until(lambda: f"Training sample {first} of 75" in head_text(dash_duo), timeout=10)
    assert "Picked from the confusion matrix" in head_text(dash_duo)
    assert dash_duo.get_logs() == []


def test_health_shows_dead_units_and_the_divergence_explainer(dash_duo):
    start(dash_duo)
    slider_keys(dash_duo, ids.SLIDER_LR, *[Keys.ARROW_RIGHT] * 13)  # 0.01 -> 1.5
    until(lambda: dash_duo.find_element(f"#{ids.TEXT_LR}").text == "1.5", timeout=5)
    slider_keys(dash_duo, ids.SLIDER_SPEED, Keys.END)
    open_tab(dash_duo, "Training health")
    dash_duo.find_element(f"#{ids.BUTTON_TRAIN}").click()
    wait_state(dash_duo, "maxit", "abstol")
    until(lambda: "dead" in dash_duo.find_element(f"#{health.DIV_HINTS}").text, timeout=10)
    assert dash_duo.find_elements(f"#{health.DIV_HINTS} .hint-error")
    curves = dash_duo.driver.execute_script(
        f"var gd = document.querySelector('#{health.GRAPH_LOSS_SPLIT} .js-plotly-plot');"
        "return gd.data.map(t => t.x.length);")
    assert curves == [60, 60, 60]

    # lr 10, seed 2024, 16 hidden units: the loss overflows at iteration 4
    slider_keys(dash_duo, ids.SLIDER_LR, Keys.END)
    slider_keys(dash_duo, ids.SLIDER_HIDDEN, *[Keys.ARROW_RIGHT] * 10)
    seed = dash_duo.find_element(f"#{ids.INPUT_SEED}")
    seed.send_keys(Keys.CONTROL, "a")
    seed.send_keys("2024", Keys.ENTER)
    until(lambda: "2024" in status(dash_duo)[2] and dash_duo.find_element(
        f"#{ids.TEXT_HIDDEN}").text == "16", timeout=10,
          msg=lambda: f"{status(dash_duo)} seed={seed.get_attribute('value')}")
    wait_state(dash_duo, "ready", iteration=0)
    dash_duo.find_element(f"#{ids.BUTTON_TRAIN}").click()
    wait_state(dash_duo, "diverged")
    text = status(dash_duo)[2]
    assert "Why? correct.logprobs (Op.[6]-[7]) was the first quantity" in text
    until(lambda: "Why the run diverged" in dash_duo.find_element(
        f"#{health.DIV_DIVERGED}").text, timeout=10)
    box = dash_duo.find_element(f"#{health.DIV_DIVERGED}").text
    assert "Diverged at iteration\n4" in box or "Diverged at iteration 4" in box
    assert "correct.logprobs" in box and "10 → try 1" in box
    assert dash_duo.get_logs() == []
