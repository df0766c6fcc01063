"""Issue 7's pure builders (dashboard/figures_inside.py, dashboard/markup_inside.py) against
mlpcore, with the expected numbers computed here independently (numpy, not the builders)."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import plotly
import pytest

from dashboard.figures import unit_names
from dashboard.figures_inside import (
    LEVELS,
    MAX_POINTS,
    OUTLINE_SCALE,
    boundary_figure,
    boundary_updates,
    class_color,
    default_features,
    field_codes,
    field_colorscale,
    health_bars_figure,
    health_bars_updates,
    loss_split_figure,
    loss_split_updates,
    ring_updates,
    typed,
    untyped,
)
from dashboard.markup_inside import (
    MAX_COLS,
    MAX_ROWS,
    ROWS_SHOWN,
    SECTIONS,
    View,
    divergence_block,
    gradcheck_block,
    heat,
    hints_block,
    inspector_cards,
    inspector_head,
    inspector_tables,
    num,
    pick_note,
    shown,
    why_line,
)
from mlpcore import (
    Config,
    Trainer,
    boundary_grid,
    explain_divergence,
    gradient_report,
    health_hints,
    make_dataset,
)
from mlpcore.anatomy import anatomy
from mlpcore.data import Dataset
from mlpcore.health import health


def apply_ops(figure: dict, ops) -> dict:
    """What the renderer does with the Patch the panels build from `ops`."""
    figure = copy.deepcopy(figure)
    for path, op, value in ops:
        target = figure
        for key in path[:-1]:
            target = target[key]
        if op == "assign":
            target[path[-1]] = copy.deepcopy(value)
        else:
            target[path[-1]] = target[path[-1]] + list(value)
    return figure


def plain(x):
    return json.loads(json.dumps(x, cls=plotly.utils.PlotlyJSONEncoder))


def text_of(component) -> str:
    """All the text of a Dash component tree."""
    node = plain(component)

    def walk(n):
        if isinstance(n, list):
            return " ".join(walk(c) for c in n)
        if isinstance(n, dict):
            return walk(n.get("props", {}).get("children"))
        return "" if n is None else str(n)

    return walk(node)


@pytest.fixture(scope="module")
def doc300():
    t = Trainer(Config.document())
    t.step(300)
    return t


@pytest.fixture(scope="module")
def diverged():
    t = Trainer(Config.document().replace(lr=10.0, seed=2024, hidden=(16,)))
    while not t.done:
        t.step(1)
    assert t.status == "diverged"
    return t


def view_of(t, row=0, batch=False):
    d = t.dataset
    anat = anatomy(t, rows=None if batch else row)
    return View(anat, unit_names(t.params, d.feature_names, d.class_names), d.class_names,
                row, d.y_train.tolist(), [int(i) for i in d.train_indices])


# ------------------------------------------------------------------------------ numbers
@pytest.mark.parametrize("value, text", [
    (0.0, "0"), (0.12345, "0.1235"), (-0.5, "-0.5"), (12.345, "12.35"), (1234.5, "1234"),
    (2.5e-5, "2.5e-5"), (-1.2346e-7, "-1.235e-7"), (3.0e8, "3e8"), (math.inf, "∞"),
    (-math.inf, "-∞"), (math.nan, "NaN"), (1, "1"),
])
def test_num(value, text):
    assert num(value) == text  # ASCII minus on the wire
    assert shown(value) == text.replace("-", "−")  # as the page shows it


def test_heat_classes_by_sign_and_size():
    assert [heat(v, 1.0) for v in (-1, -0.6, -0.3, -0.1, 0, 0.01, 0.1, 0.3, 0.6, 1)] == \
        ["n4", "n3", "n2", "n1", "z", "z", "p1", "p2", "p3", "p4"]
    assert heat(math.nan, 1.0) == "bad" and heat(5.0, 0.0) == "z"


# --------------------------------------------------------------------- the inspector
def test_cards_carry_names_op_numbers_shapes_and_formulas_in_the_document_order(doc300):
    anat = anatomy(doc300, rows=0)
    cards = plain(inspector_cards(anat))
    found = {}
    headings = []
    for node in cards:
        if node["type"] == "H3":
            headings.append(node["props"]["children"][0])
            continue
        head, formula, values, code = node["props"]["children"]
        name = node["props"]["data-q"]
        op, qname, _title, shape = [c["props"]["children"] for c in head["props"]["children"]]
        assert qname == name and values["props"]["className"] == "values"
        assert values["props"].get("children") is None  # filled by assets/inside.js
        assert formula["props"]["mathjax"] is True
        found[name] = (op, shape, formula["props"]["children"], code["props"]["children"])
    assert headings == [h for _k, h, _o in SECTIONS]
    assert list(found) == [e["name"] for e in sorted(
        anat["entries"], key=lambda e: [k for k, *_ in SECTIONS].index(_section(e)))]
    assert found["dscores"][0] == "Op.[14]" and found["dscores"][1] == "1 × 3"
    assert found["dscores"][2] == (r"$$\frac{\partial L_D}{\partial \sigma^{(2)}_k} = "
                                   r"q_k - \delta_{ky}$$")
    assert found["sigma1"][:2] == ("Op.[1]", "1 × 6") and found["h1"][0] == "Op.[2]"
    assert found["probs"][0] == "Op.[5]" and found["data_loss"] == (
        "Op.[7]", "scalar", r"$$L_D = -\log q_y$$",
        "data.loss <- sum(correct.logprobs) / batchsize")
    assert found["dW2_data"][:2] == ("Op.[23]", "6 × 3") and found["db2"][0] == "Op.[17]"
    assert found["dhidden1"][0] == "Op.[29]" and found["deriv1"][0] == "Op.[30]"
    assert found["dsigma1"][0] == "Op.[31]" and found["dW1_data"][:2] == ("Op.[32]", "4 × 6")
    assert found["dW1"][0] == "Op.[33]" and found["W1_next"][0] == "Op.[34]"
    batch = {c["props"]["data-q"]: c for c in plain(inspector_cards(anatomy(doc300)))
             if c["type"] != "H3"}
    shape = batch["h1"]["props"]["children"][0]["props"]["children"][3]["props"]["children"]
    assert shape == "75 × 6"  # N x H


def _section(e):
    from dashboard.markup_inside import section_of
    return section_of(e)


def test_sample_tables_hold_the_numbers_of_the_document_pass(doc300):
    """Row 1 (0-based 0) of the document's run at iteration 300, computed here with numpy."""
    t, d = doc300, doc300.dataset
    p = {k: np.array(v) for k, v in t.params.items()}
    x, y = d.X_train[0:1], int(d.y_train[0])
    sigma1 = x @ p["W1"] + p["b1"]
    h = np.maximum(0, sigma1)
    score = h @ p["W2"] + p["b2"]
    q = np.exp(score - score.max()) / np.exp(score - score.max()).sum()
    onehot = np.eye(3)[[y]]
    dscores = q - onehot
    dhidden = dscores @ p["W2"].T
    dsigma = dhidden * (h > 0)
    reg = t.config.reg
    expected = {"sigma1": sigma1, "h1": h, "sigma2": score, "probs": q, "dscores": dscores,
                "dW2_data": h.T @ dscores, "db2": dscores, "dhidden1": dhidden,
                "dsigma1": dsigma, "dW1_data": x.T @ dsigma, "dW1": x.T @ dsigma + reg * p["W1"],
                "W2_next": p["W2"] - t.config.lr * (h.T @ dscores + reg * p["W2"])}
    tables = inspector_tables(view_of(t, 0))
    for name, want in expected.items():
        spec = tables[name]
        assert spec["k"] == "t", name
        assert spec["v"] == [[num(v) for v in row] for row in np.atleast_2d(want)], name
    loss = -math.log(q[0, y])
    assert tables["data_loss"]["s"] == num(loss) and tables["correct_logprobs"]["s"] == num(loss)
    reg_loss = 0.5 * reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    assert tables["reg_loss"]["s"] == num(reg_loss)
    assert tables["loss"]["s"] == num(loss + reg_loss)
    assert tables["y"] == {"k": "l", "s": d.class_names[y], "m": f" class {y} (0-based)",
                           "w": ""}
    # labels: the document's unit names; the true class's column outlined
    assert tables["dscores"]["ch"] == d.class_names and tables["dscores"]["t"] == y
    assert "t" in tables["dscores"]["c"][0][y].split()
    assert tables["W1"]["rh"] == d.feature_names and tables["W1"]["ch"] == [
        f"h{j}" for j in range(1, 7)]
    assert f"q − 1 = {shown(q[0, y] - 1)}" in tables["dscores"]["w"]


def test_the_relu_mask_is_visible_in_h_dhidden_deriv_and_dsigma(doc300):
    t = doc300
    tables = inspector_tables(view_of(t, 0))
    h = np.maximum(0, t.dataset.X_train[0:1] @ t.params["W1"] + t.params["b1"])[0]
    off = [j for j in range(6) if h[j] <= 0]
    assert off and len(off) < 6  # this sample has inactive and active units
    for name in ("h1", "dhidden1", "dsigma1", "deriv1"):
        classes = tables[name]["c"][0]
        assert [j for j, c in enumerate(classes) if "m" in c.split()] == off, name
    assert [c for c in tables["deriv1"]["c"][0]] == ["off m" if j in off else "on"
                                                     for j in range(6)]
    assert all(tables["dsigma1"]["v"][0][j] == "0" for j in off)
    assert f"{6 - len(off)} of 6 entries active" in tables["deriv1"]["w"]


def test_batch_view_shows_a_window_of_rows_from_the_selected_one(doc300):
    t, N = doc300, 75
    view = view_of(t, 70, batch=True)
    tables = inspector_tables(view)
    probs = t.predict_proba(t.dataset.X_train)
    rows = list(range(N - ROWS_SHOWN, N))  # the window ends at the last row
    spec = tables["probs"]
    assert spec["rh"] == [str(r + 1) for r in rows] and spec["rh0"] == "row"
    assert spec["v"] == [[num(v) for v in probs[r]] for r in rows]
    assert spec["sel"] == rows.index(70) and spec["n"] == f"showing rows 68–75 of {N}"
    for i, r in enumerate(rows):  # each row's true class outlined
        assert [j for j, c in enumerate(spec["c"][i]) if "t" in c.split()] == \
            [int(t.dataset.y_train[r])]
    assert tables["y"]["v"] == [[t.dataset.class_names[t.dataset.y_train[r]]] for r in rows]
    dscores = (probs - np.eye(3)[t.dataset.y_train]) / N
    assert tables["dscores"]["v"] == [[num(v) for v in dscores[r]] for r in rows]
    assert tables["data_loss"]["s"] == num(np.mean(-np.log(
        probs[np.arange(N), t.dataset.y_train])))
    assert "mean of 75 rows" in tables["data_loss"]["w"]


def test_wide_data_and_deep_networks_are_cut_and_named(doc300):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 30))
    y = np.arange(60) % 4
    d = Dataset("wide", X[:40], y[:40], X[40:], y[40:], [f"f{i}" for i in range(30)],
                [f"c{k}" for k in range(4)])
    t = Trainer(Config.document().replace(hidden=(20, 5), activation="tanh"), d)
    t.step(3)
    tables = inspector_tables(view_of(t, 3))
    assert tables["W1"]["rh"] == [f"f{i}" for i in range(MAX_ROWS)]
    assert tables["W1"]["ch"] == [f"h1.{j}" for j in range(1, MAX_COLS + 1)]
    assert tables["W1"]["n"] == "showing 8 of 30 rows, 10 of 20 columns"
    assert tables["W2"]["rh"][:2] == ["h1.1", "h1.2"] and tables["W2"]["ch"] == [
        f"h2.{j}" for j in range(1, 6)]
    assert tables["sigma3"]["ch"] == ["c0", "c1", "c2", "c3"]  # the scores of a 2-layer net
    assert "dhidden2" in tables and "dsigma1" in tables
    # tanh: no mask, the derivative coloured like any number
    assert not any("m" in c.split() for row in tables["deriv1"]["c"] for c in row)
    deriv = 1 - np.tanh(X[3:4] @ t.params["W1"] + t.params["b1"]) ** 2
    assert tables["deriv1"]["v"][0] == [num(v) for v in deriv[0][:MAX_COLS]]


def test_head_says_which_sample_its_class_and_prediction(doc300):
    view = view_of(doc300, 0)
    d = doc300.dataset
    text = " ".join(text_of(c) for c in inspector_head(view, d.feature_names, d.name))
    pred = int(np.argmax(doc300.predict_proba(d.X_train[:1])))
    assert "Training sample 1 of 75" in text and f"iris row {d.train_indices[0]}" in text
    assert f"predicted {d.class_names[pred]}" in text and "Sample 1 alone" in text
    assert "Row 0" not in text  # the core's 0-based note is reworded
    batch = " ".join(text_of(c) for c in inspector_head(view_of(doc300, 4, True),
                                                         d.feature_names, d.name))
    assert "All 75 training rows at once (N = 75)" in batch and "from sample 5" in batch


def test_pick_notes():
    names = ["a", "b", "c"]
    assert pick_note(None, 3, names) is None
    assert pick_note({"via": "boundary", "row": 4}, 3, names) is None  # another row now
    assert "decision boundary" in pick_note({"via": "boundary", "row": 3}, 3, names)
    found = pick_note({"via": "confusion", "row": 3, "true": 1, "pred": 2, "found": True,
                       "matches": 2}, 3, names)
    assert "is b and is predicted c" in found and "2 such rows" in found
    none = pick_note({"via": "confusion", "row": 3, "true": 0, "pred": 2, "found": False,
                      "matches": 0}, 3, names)
    assert "No training row is a and predicted c" in none and "test set" in none


# ------------------------------------------------------------------- gradient check
def test_gradcheck_block_shows_mlpcores_verdicts_and_the_thresholds(doc300):
    report = gradient_report(doc300)
    node = plain(gradcheck_block(report, 300))
    text = text_of(node)
    for r in report["tensors"]:
        assert f"d{r['name']}" in text and f"{r['max_rel_error']:.1e}" in text
    assert "≤ 1e-07 good" in text and "> 1e-02 wrong" in text and "At iteration 300" in text
    rows = [n for n in _walk(node) if n.get("type") == "Tr" and "data-tensor" in n["props"]]
    assert [r["props"]["data-tensor"] for r in rows] == ["W1", "b1", "W2", "b2"]
    for row, r in zip(rows, report["tensors"], strict=True):
        assert _walk_text(row).count(r["verdict"] if r["verdict"] != "kink" else "ReLU kink")


def _walk(node):
    if isinstance(node, list):
        for c in node:
            yield from _walk(c)
    elif isinstance(node, dict):
        yield node
        yield from _walk(node.get("props", {}).get("children"))


def _walk_text(node):
    return " ".join(str(n["props"]["children"]) for n in _walk(node)
                    if isinstance(n.get("props", {}).get("children"), str))


def test_gradcheck_block_explains_a_kink():
    report = {"h": 1e-5, "thresholds": {"good": 1e-7, "acceptable": 1e-4, "wrong": 1e-2},
              "verdict": "kink", "kink_crossed": True, "message": "Checked 3 of 3",
              "tensors": [{"name": "W1", "shape": [1, 3], "size": 3, "checked": 3,
                           "max_rel_error": 0.5, "verdict": "kink", "message": "1 of 3 crossed",
                           "worst": {"index": [0, 2], "analytic": 0.1, "numerical": 0.3}}]}
    text = text_of(gradcheck_block(report, 7))
    assert "ReLU kink was crossed" in text and "[1, 3]: analytic 0.1, numerical 0.3" in text


# ------------------------------------------------------------------ decision boundary
def _grid_by_hand(t, fi, fj, R=60, margin=0.1):
    """The predicted class and max probability over the two features, the others at
    their training means: computed here from the trainer's predict_proba."""
    d = t.dataset
    both = np.vstack([d.X_train, d.X_test])
    axes = []
    for f in (fi, fj):
        lo, hi = both[:, f].min(), both[:, f].max()
        axes.append(np.linspace(lo - margin * (hi - lo), hi + margin * (hi - lo), R))
    gx, gy = np.meshgrid(*axes)
    X = np.tile(d.X_train.mean(axis=0), (gx.size, 1))
    X[:, fi], X[:, fj] = gx.ravel(), gy.ravel()
    p = t.predict_proba(X)
    return p.argmax(axis=1).reshape(gx.shape), p.max(axis=1).reshape(gx.shape), axes


def test_boundary_figure_is_the_predicted_class_with_the_points_on_top(doc300):
    t, d = doc300, doc300.dataset
    grid = boundary_grid(t, features=(2, 3), resolution=60)
    fig = plain(boundary_figure(grid, selected=4))
    field, train, test, ring = fig["data"][:4]
    pred, prob, (xs, ys) = _grid_by_hand(t, 2, 3)
    level = np.clip(((prob - 1 / 3) / (2 / 3) * LEVELS).astype(int), 0, LEVELS - 1)
    assert field["type"] == "heatmap" and untyped(field["z"]) == (pred * LEVELS + level).tolist()
    assert field["x"] == pytest.approx(xs, rel=1e-4) and field["y"] == pytest.approx(ys, rel=1e-4)
    assert len(set(np.ravel(untyped(field["z"])) // LEVELS)) == 3  # three classes predicted
    assert train["x"] == pytest.approx(d.X_train[:, 2]) and train["y"] == pytest.approx(
        d.X_train[:, 3])
    assert test["marker"]["symbol"] == "diamond" and train["marker"]["symbol"] == "circle"
    assert train["customdata"] == list(range(1, 76)) and "customdata" not in test  # 1-based
    assert train["marker"]["color"] == d.y_train.tolist() and train["text"][0] == \
        d.class_names[d.y_train[0]]
    scale = train["marker"]["colorscale"]
    assert [scale[2 * k][1] for k in range(3)] == [class_color(k) for k in range(3)]
    wrong_test = (t.predict(d.X_test) != d.y_test).astype(int).tolist()
    assert test["marker"]["line"]["color"] == wrong_test and sum(wrong_test) > 0
    assert test["marker"]["line"]["width"] == [3 if w else 1 for w in wrong_test]
    assert train["marker"]["line"]["colorscale"] == OUTLINE_SCALE
    assert ring["x"] == [pytest.approx(d.X_train[4, 2])] and ring["y"] == [
        pytest.approx(d.X_train[4, 3])]
    title = fig["layout"]["title"]["text"]
    assert "Petal.Length × Petal.Width" in title and "held at their training means" in title
    assert "Sepal.Length = 5.805" in title
    assert "scaleanchor" not in fig["layout"]["yaxis"]
    assert [tr["name"] for tr in fig["data"][4:7]] == d.class_names


def test_field_codes_bands_and_typed_arrays():
    pred = np.array([[0, 1, 2], [2, 2, 0]])
    prob = np.array([[1 / 3, 0.999, 0.6], [1.0, np.nan, 0.5]])
    codes = field_codes(pred, prob, 3)
    assert codes.tolist() == [[0, 7, 9], [11, 8, 1]]
    spec = typed(codes)
    assert spec["dtype"] == "u1" and spec["shape"] == "2,3" and untyped(spec) == codes.tolist()
    scale = field_colorscale(3)
    assert len(scale) == 2 * 3 * LEVELS and scale[0][0] == 0 and scale[-1][0] == 1
    assert all(a[1] == b[1] for a, b in zip(scale[::2], scale[1::2], strict=True))  # flat bands


def test_boundary_updates_equal_a_rebuild(doc300):
    t = Trainer(Config.document())
    t.step(100)
    before = boundary_figure(boundary_grid(t, (2, 3)), selected=0)
    t.step(400)
    after_grid = boundary_grid(t, (2, 3))
    patched = plain(apply_ops(before, boundary_updates(after_grid, selected=9)))
    assert patched == plain(boundary_figure(after_grid, selected=9))
    ring = plain(apply_ops(before, ring_updates(after_grid, None)))
    assert ring["data"][3]["x"] == [] and ring["data"][3]["y"] == []
    size = len(json.dumps(plain(boundary_updates(after_grid, 9)), separators=(",", ":")))
    assert size < 8000  # the field as bytes (4.8 KB) and 150 outlines; a full figure: ~23 KB


def test_a_2d_data_set_is_the_plane_itself():
    t = Trainer(Config.document().replace(hidden=(8,)), make_dataset("moons", seed=3))
    t.step(50)
    fig = plain(boundary_figure(boundary_grid(t, (0, 1)), None))
    assert "the plane itself" in fig["layout"]["title"]["text"]
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"


def test_big_data_sets_draw_a_subset_of_points_and_say_so():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6000, 3))
    y = (X[:, 0] > 0).astype(int)
    d = Dataset("big", X[:4000], y[:4000], X[4000:], y[4000:], ["a", "b", "c"], ["no", "yes"])
    t = Trainer(Config.document().replace(hidden=(4,)), d)
    t.step(5)
    grid = boundary_grid(t, (0, 1), resolution=20)
    fig = plain(boundary_figure(grid, None))
    train, test = fig["data"][1], fig["data"][2]
    assert len(train["x"]) == len(train["customdata"]) == MAX_POINTS == len(test["x"])
    assert train["customdata"][0] == 1 and train["customdata"][-1] == 4000
    k = 7
    assert train["x"][k] == pytest.approx(X[train["customdata"][k] - 1, 0], rel=1e-3)
    assert "Showing 1,500 of 4,000 training points." in fig["layout"]["title"]["text"]
    t.step(20)
    grid2 = boundary_grid(t, (0, 1), resolution=20)
    assert plain(apply_ops(fig, boundary_updates(grid2))) == plain(boundary_figure(grid2))


def test_names_from_the_data_are_text_not_markup():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.9]])
    y = np.array([0, 1, 0, 1])
    d = Dataset("csv", X, y, X, y, ["<b>a</b>", 'b" onload="x'], ["<i>no</i>", "yes"])
    t = Trainer(Config.document().replace(hidden=(3,)), d)
    fig = plain(boundary_figure(boundary_grid(t, (0, 1), resolution=5), 0))
    text = json.dumps(fig)
    assert "<b>a</b>" not in text and "<i>no</i>" not in text and '" onload' not in text
    assert fig["layout"]["xaxis"]["title"]["text"] == "&lt;b&gt;a&lt;/b&gt;"
    assert fig["data"][1]["text"][0] == "&lt;i&gt;no&lt;/i&gt;"
    assert fig["data"][4]["name"] == "&lt;i&gt;no&lt;/i&gt;"


def test_default_features_separate_the_classes_best():
    t = Trainer(Config.document())
    assert default_features(t.dataset.X_train, t.dataset.y_train, 3) == (2, 3)  # petals
    rng = np.random.default_rng(0)
    y = np.arange(90) % 3
    X = rng.normal(size=(90, 5))
    X[:, 4] += 5 * y
    X[:, 1] += 3 * y
    assert default_features(X, y, 3) == (1, 4)
    assert default_features(X[:, :1], y, 3) == (0, 0)


# ----------------------------------------------------------------------- training health
def test_loss_split_curves_are_the_history_and_extend_exactly(doc300):
    t = Trainer(Config.document())
    t.step(500)
    h = t.history.since(0)
    fig = plain(loss_split_figure(h))
    data_loss, reg_loss, total = fig["data"]
    assert data_loss["x"] == [int(s) for s in h["step"]] and fig["layout"]["yaxis"]["type"] == "log"
    assert data_loss["y"] == pytest.approx(h["data_loss"], rel=1e-3)
    assert reg_loss["y"] == pytest.approx(h["reg_loss"], rel=1e-3)
    assert total["y"] == pytest.approx(np.add(h["data_loss"], h["reg_loss"]), rel=1e-3)
    n = len(t.history)
    t.step(500)
    extended = apply_ops(fig, loss_split_updates(t.history.since(n)))
    assert plain(extended) == plain(loss_split_figure(t.history.since(0)))
    zero = plain(loss_split_figure({"step": [1], "data_loss": [0.5], "reg_loss": [0.0],
                                    "loss": [math.inf]}))
    assert zero["data"][1]["y"] == [None] and zero["data"][2]["y"] == [None]  # log-axis gaps


def test_health_bars_are_the_report_and_update_exactly():
    t = Trainer(Config.document().replace(lr=1.5))
    t.step(300)
    report = health(t)
    fig = plain(health_bars_figure(report))
    dead, ratio, norms = fig["data"]
    W = [np.array(t.params[k]) for k in ("W1", "W2")]
    assert dead["x"] == ["layer 1"] and dead["y"] == [1.0] and dead["text"] == ["6 of 6"]
    grads = report["grad_norms"]
    assert ratio["x"] == ["W1", "W2"]
    for i, w in enumerate(W):
        expected = 1.5 * grads[f"W{i + 1}"] / np.linalg.norm(w)
        assert ratio["y"][i] == pytest.approx(expected, rel=1e-3)
    assert norms["x"] == ["dW1", "db1", "dW2", "db2"]
    before = Trainer(Config.document())
    before.step(10)
    updated = apply_ops(health_bars_figure(health(before)), health_bars_updates(report))
    assert plain(updated)["data"] == fig["data"]


def test_hints_are_coloured_by_severity():
    t = Trainer(Config.document().replace(lr=1.5))
    t.step(300)
    hints = health_hints(t)
    node = plain(hints_block(hints))
    items = [n for n in _walk(node) if n.get("type") == "Li"]
    assert [i["props"]["className"] for i in items] == [f"hint hint-{h['severity']}"
                                                        for h in hints]
    assert any(h["code"] == "dead_all" for h in hints) and "dead" in text_of(node)
    assert "healthy" in text_of(hints_block([]))


# --------------------------------------------------------------------- divergence
def test_divergence_block_and_why_line(diverged):
    e = explain_divergence(diverged)
    text = text_of(divergence_block(e))
    assert "Diverged at iteration 4" in text and "correct.logprobs (Op.[6]-[7]" in text
    assert f"{num(e['last_finite_loss'])} (iteration 3)" in text and "10 → try 1" in text
    assert e["message"] in text
    line = why_line(e)
    assert line.startswith("Why? correct.logprobs (Op.[6]-[7]) was the first quantity")
    assert "the last finite loss was 2.952 (iteration 3)" in line
    assert why_line(None) == ""
