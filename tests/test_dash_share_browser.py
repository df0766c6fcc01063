"""Shareable links in headless Chromium: a link's settings reach the controls and the run,
classroom mode hides controls, the address follows the controls, bad values are named."""

from __future__ import annotations

import pytest
from conftest import free_port, until
from selenium.webdriver.common.keys import Keys
from test_dash_browser import (
    assert_curves_match,
    graph,
    press,
    reference,
    slider_keys,
    status,
    text_is,
    wait_state,
)
from test_dash_compare_browser import open_tab

from dashboard import ids
from dashboard.app import create_app
from dashboard.panels import share
from dashboard.sessions import MemoryStore
from mlpcore import Config

pytestmark = pytest.mark.browser
LINK = "/?hidden=8&lr=0.1&maxit=500&seed=3&speed=max&activation=tanh&hide=activation,layers"


def open_link(browser, path):
    browser.start_server(create_app(MemoryStore()), port=free_port())
    browser.driver.get(browser.server_url + path)
    until(lambda: graph(browser, ids.GRAPH_WEIGHTS), timeout=10)


def test_a_link_sets_the_controls_the_run_and_classroom_mode(dash_duo):
    open_link(dash_duo, LINK)
    until(lambda: "Opened a link" in status(dash_duo)[2], timeout=10)
    for element_id, text in ((ids.TEXT_HIDDEN, "8"), (ids.TEXT_LR, "0.1"),
                             (ids.TEXT_MAXIT, "500"), (ids.TEXT_SPEED, "as fast as possible")):
        text_is(dash_duo, element_id, text)
    assert dash_duo.find_element(f"#{ids.INPUT_SEED}").get_attribute("value") == "3"
    checked = dash_duo.find_element(f"#{ids.RADIO_ACTIVATION} input[value=tanh]")
    assert checked.is_selected()
    # classroom mode: those two controls are hidden, the others are not
    for hidden_id in (ids.RADIO_ACTIVATION, ids.SLIDER_LAYERS):
        assert not dash_duo.find_element(f"#{hidden_id}").is_displayed()
    assert dash_duo.find_element(f"#{ids.SLIDER_HIDDEN}").is_displayed()
    assert "iteration 0 / 500" in status(dash_duo)[2]

    press(dash_duo, ids.BUTTON_TRAIN)  # the run uses exactly the link's settings
    wait_state(dash_duo, "maxit", "abstol", "diverged")
    config = Config.document().replace(hidden=(8,), lr=0.1, maxit=500, seed=3,
                                       activation="tanh")
    trainer, _steps, h = reference(config, 500)
    assert status(dash_duo)[:2] == (trainer.status, trainer.iteration)
    assert_curves_match(graph(dash_duo, ids.GRAPH_CURVES), h)
    assert len(graph(dash_duo, ids.GRAPH_WEIGHTS)[0]["x"]) == 8

    # the address follows the controls; the Share tab shows it, ready to copy
    slider_keys(dash_duo, ids.SLIDER_REG, Keys.ARROW_RIGHT)
    text_is(dash_duo, ids.TEXT_REG, "0.0015")
    expected = ("?hidden=8&lr=0.1&reg=0.0015&maxit=500&seed=3&speed=max&activation=tanh"
                "&hide=layers,activation")
    until(lambda: dash_duo.driver.current_url.endswith(expected), timeout=5)
    open_tab(dash_duo, "Share")
    link = f"#{share.TEXT_LINK}"
    until(lambda: dash_duo.find_element(link).text == dash_duo.driver.current_url, timeout=5)
    assert dash_duo.find_element(f"#{share.CLIPBOARD_LINK}").is_displayed()
    # tanh cannot be replayed with the document's R functions: the button says why
    until(lambda: "activation is tanh" in dash_duo.find_element(
        f"#{share.TEXT_EXPORT_R}").text, timeout=5)
    assert dash_duo.find_element(f"#{share.BUTTON_EXPORT_R}").get_attribute("disabled")
    assert dash_duo.get_logs() == []


def test_bad_link_values_give_the_defaults_and_say_so(dash_duo):
    open_link(dash_duo, "/?lr=abc&hidden=1000&seed=4")
    until(lambda: "Opened a link" in status(dash_duo)[2], timeout=10)
    text = status(dash_duo)[2]
    assert 'learning rate "abc" is not a number; using 0.01' in text
    assert 'hidden units "1000" is outside 1 to 64; using 6' in text
    text_is(dash_duo, ids.TEXT_HIDDEN, "6")
    text_is(dash_duo, ids.TEXT_LR, "0.01")
    assert dash_duo.find_element(f"#{ids.INPUT_SEED}").get_attribute("value") == "4"
    until(lambda: dash_duo.driver.current_url.endswith("/?seed=4"), timeout=5)
    press(dash_duo, ids.BUTTON_STEP)
    wait_state(dash_duo, "paused", iteration=50, timeout=10)
    _t, _s, h = reference(Config.document().replace(seed=4), 50)
    assert_curves_match(graph(dash_duo, ids.GRAPH_CURVES), h)
    assert dash_duo.get_logs() == []
