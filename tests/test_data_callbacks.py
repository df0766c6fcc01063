"""Issue 8, the dashboard half, called as plain functions: the data controls, the Data tab's
upload (every CSV error reaches the page with mlpcore's exact sentence, and the run is
untouched), switching data, and the one function that makes every run (new_trainer).
Expected data come from mlpcore run directly."""

from __future__ import annotations

import base64
import json
import uuid

import numpy as np
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import callbacks as cb
from dashboard.datasource import csv_spec, load_spec, new_trainer
from dashboard.layout import HIDDEN
from dashboard.limits import LIMITS
from dashboard.panels import data as panel
from dashboard.sessions import MemoryStore
from dashboard.validation import (
    DATA_DEFAULTS,
    DEFAULTS,
    DOCUMENT,
    ControlError,
    Settings,
    data_settings,
    validate,
)
from mlpcore import Config, DataError, Trainer, make_dataset
from mlpcore.csvdata import csv_dataset, parse_csv

SPOT = "row 2 (data rows count from 1 below the header; spreadsheet row 3)"
# (case, file bytes, mlpcore's exact sentence): the list, and a few more
CSV_ERRORS = [
    ("empty file", b"", "the file is empty"),
    ("only blank lines", b"\n\n,,\n", "the file is empty"),
    ("UTF-16", "a,b\n1,x\n".encode("utf-16"), "the file is UTF-16 text; save it as CSV UTF-8"),
    ("not UTF-8", "a,b\n1,caf\xe9\n".encode("latin-1"),
     "the file is not UTF-8 text: byte 0xE9 at offset 9 is not valid UTF-8; save it as CSV "
     "UTF-8"),
    ("a workbook", b"PK\x03\x04rest",
     "the file is an Excel workbook or another zip archive, not CSV text; export it as CSV "
     "UTF-8"),
    ("binary", b"a,b\x00\n",
     "the file is not CSV text: it contains NUL bytes (is it a spreadsheet, an image or "
     "another binary file?)"),
    ("semicolons", b"a;b;label\n1;2;p\n",
     'the file has only one column; it seems to use ";" between values: save it with commas '
     "between values"),
    ("no numeric columns", b"a,b,label\nx,y,p\nz,w,q\n",
     'no numeric feature columns: besides the label column "label", every column holds text'),
    ("one class", b"a,b,label\n1,2,p\n3,4,p\n",
     'the label column "label" has only one class ("p"); a classifier needs at least 2'),
    ("text in a feature", b"a,b,label\n1,2,p\n3,oops,q\n5,6,p\n7,8,q\n",
     f'column "b", {SPOT}: "oops" is not a number'),
    ("NaN", b"a,b,label\n1,2,p\n3,nan,q\n5,6,p\n7,8,q\n",
     f'column "b", {SPOT}: "nan" is not a finite number'),
    ("Inf", b"a,b,label\n1,2,p\n3,-Inf,q\n5,6,p\n7,8,q\n",
     f'column "b", {SPOT}: "-Inf" is not a finite number'),
    ("a missing value", b"a,b,label\n1,2,p\n3,,q\n5,6,p\n7,8,q\n",
     f'column "b", {SPOT}: the value is missing'),
    ("duplicate headers", b"a,a,label\n1,2,p\n3,4,q\n",
     'duplicate column name "a" (columns 1 and 2); every column needs its own name'),
    ("no data rows", b"a,b,label\n", "the file has a header but no data rows"),
    ("too many columns",
     (",".join(f"c{i}" for i in range(52)) + "\n" + "1," * 51 + "x\n").encode(),
     "the file has 52 columns; the limit is 50"),
    ("too many rows", b"a,label\n" + b"1,x\n2,y\n" * 10_001,
     "the file has more than 20,000 data rows; the limit is 20,000"),
    ("too many classes", b"a,label\n" + b"".join(f"{i},c{i}\n{i},c{i}\n".encode()
                                                  for i in range(21)),
     'the label column "label" has 21 different values; the limit is 20 classes (is it '
     "really the label?)"),
    ("an unclosed quote", b'a,b,label\n1,2,"p\n3,4,q\n',
     'a quoted value starting in row 1 (data rows count from 1 below the header; spreadsheet '
     'row 2) is never closed (a closing " is missing)'),
    ("a class of one row", b"a,b,label\n1,2,p\n3,4,q\n5,6,p\n",
     'class "q" has 1 row; every class needs at least 2 rows (one to train on, one to test '
     "on)"),
]
GOOD = b"sepal,petal,kind\n" + b"".join(
    f"{i % 7 + 0.5},{(i * 3) % 5 - 1.25},{('red', 'green', 'blue')[i % 3]}\n".encode()
    for i in range(60))


def contents(raw: bytes, kind: str = "text/csv") -> str:
    """dcc.Upload's `contents` for a file's bytes."""
    return f"data:{kind};base64," + base64.b64encode(raw).decode()


def text_of(component) -> str:
    """The text a component tree shows, blocks (Div, Tr, ...) separated by a space."""
    def walk(c) -> str:
        if c is None:
            return ""
        if isinstance(c, str | int | float):
            return str(c)
        if isinstance(c, list | tuple):
            return "".join(walk(x) for x in c)
        inline = type(c).__name__ in ("Span", "Strong", "Code", "Em")
        inner = walk(getattr(c, "children", None))
        return inner if inline else f" {inner} "
    return " ".join(walk(component).split())


class Tab:
    """A browser tab as the callbacks see it: its controls, session and record."""

    def __init__(self, store, **data):
        self.store = store
        self.session = uuid.uuid4().hex
        self.client = {"run": None, "n": 0}
        self.values = {**DEFAULTS, **data}

    def controls(self) -> dict:
        return {k: self.values.get(k) for k in cb.CONTROL_KEYS}

    def tick(self, trigger="tick"):
        v = self.values
        r = cb.advance(self.store, trigger, self.session, self.client, v["speed"], v["lr"],
                       v["reg"], self.controls(), [])
        if r.client is not no_update:
            self.client = r.client
        return r

    def toggle(self):
        pulse, status = cb.toggle_train(self.store, self.session, self.controls(),
                                        self.values["lr"], self.values["reg"])
        assert status is no_update, text_of(status)
        return self.tick("pulse")

    def restart(self, trigger):
        r = cb.restart(self.store, trigger, self.session, self.controls(), self.values["lr"],
                       self.values["reg"])
        for (cid, prop), value in (r.data or {}).items():
            key = next(k for k, c, _w in cb.DATA_CONTROLS if c == cid)
            if prop == "value":
                self.values[key] = value
        return r

    def use(self, raw: bytes, filename="my data.csv", label=None):
        return panel.data_use(self.store, self.session, contents(raw), filename, label,
                              self.controls(), self.values["lr"], self.values["reg"])

    def run(self):
        """(trainer, meta) as stored."""
        with self.store.session(self.session, lambda: None) as s:
            return s.trainer, dict(s.meta)

    def snapshot(self):
        trainer, meta = self.run()
        return (trainer.iteration, meta["run"], trainer.dataset.name,
                {k: v.copy() for k, v in trainer.params.items()})


@pytest.fixture
def store():
    return MemoryStore()


def trained(store, **data) -> Tab:
    """A tab whose run has trained a little (speed 50) and is paused."""
    tab = Tab(store, **data)
    tab.tick(None)
    tab.toggle()
    tab.tick()
    cb.toggle_train(store, tab.session, tab.controls(), tab.values["lr"], tab.values["reg"])
    assert tab.run()[0].iteration > 0
    return tab


def same_run(a, b) -> bool:
    return a[:3] == b[:3] and all(np.array_equal(a[3][k], b[3][k]) for k in a[3])


# ---------------------------------------------------------------------- the upload
@pytest.mark.parametrize("case, raw, message", CSV_ERRORS, ids=[c[0] for c in CSV_ERRORS])
def test_every_csv_error_reaches_the_page_with_its_exact_message_and_the_run_is_untouched(
        store, case, raw, message):
    with pytest.raises(DataError) as core:  # the sentence is mlpcore's own
        csv_dataset(raw)
    assert str(core.value) == message
    tab = trained(store)
    before = tab.snapshot()
    shown, preview, _options, _label, disabled = panel.data_preview(
        "upload", contents(raw), "bad.csv", None)
    assert shown == f"bad.csv was not accepted: {message}."
    assert preview == [] and disabled is True
    # "Use this data" anyway (a forged click): refused with the same sentence, nothing moves
    pulse, options, value, status, note = tab.use(raw, "bad.csv")
    assert (pulse, options, value, note) == (no_update,) * 4
    assert text_of(status) == f"Not applied bad.csv was not accepted: {message}."
    assert same_run(tab.snapshot(), before)
    assert store.get_data(tab.session) is None


def test_a_file_over_the_size_cap_is_refused_before_it_is_decoded(store):
    cap = LIMITS.max_upload_bytes
    big = contents(b"a,label\n" + b"1,x\n" * (cap // 4))
    assert len(big) > 4 * cap // 3
    # the page's relay never sends more than the cap plus 4 characters
    start = big.index(",") + 1
    relayed = big[:start + panel.MAX_CHARS_SENT + 4]
    tab = trained(store)
    before = tab.snapshot()
    shown, preview, _o, _l, disabled = panel.data_preview("upload", relayed, "big.csv", None)
    assert shown == "big.csv was not accepted: The file is larger than the limit of 5.0 MB."
    assert disabled is True and preview == []
    r = panel.data_use(store, tab.session, relayed, "big.csv", None, tab.controls(), 12, 19)
    assert "larger than the limit" in text_of(r[3]) and r[0] is no_update
    assert same_run(tab.snapshot(), before)


def test_the_relay_cuts_only_what_is_over_the_cap():
    assert f"cap = {4 * -(-LIMITS.max_upload_bytes // 3)};" in panel.RELAY
    assert "slice(0, start + cap + 4)" in panel.RELAY


def test_a_good_file_is_previewed_with_its_sizes_classes_and_first_rows():
    shown, preview, options, label, disabled = panel.data_preview(
        "upload", contents(GOOD), "colours.csv", None)
    assert disabled is False and label == "kind"
    assert [o["value"] for o in options] == ["sepal", "petal", "kind"]
    text = text_of(preview)
    assert "colours.csv: 60 rows, 2 feature columns, label column kind with 3 classes" in text
    assert "blue 20" in text and "green 20" in text and "red 20" in text
    assert "The first 5 of 60 rows." in text
    assert "sepal petal kind 0.5 -1.25 red 1.5 1.75 green" in text  # header, rows 1 and 2
    assert "Use this data" in shown


def test_choosing_another_label_column_reparses():
    raw = b"x,y,kind\n" + b"".join(f"{i},{i % 4},k{i % 3}\n".encode() for i in range(30))
    _m, _p, _o, label, _d = panel.data_preview("upload", contents(raw), "two.csv", None)
    assert label == "kind"  # the core's default: the last column that holds text
    shown, preview, _o, label, disabled = panel.data_preview(
        "label", contents(raw), "two.csv", "y")
    assert shown == ('two.csv was not accepted: column "kind" holds text, not numbers; only '
                     "the label column may hold text (delete the column or choose it as the "
                     "label).")
    assert disabled is True and label == "y"
    numeric = b"x,y,cls\n" + b"".join(f"{i},{i % 4},{i % 3}\n".encode() for i in range(30))
    _m, preview, _o, label, disabled = panel.data_preview("label", contents(numeric), "n.csv",
                                                          "y")
    assert (label, disabled) == ("y", False)
    assert "label column y with 4 classes" in text_of(preview)


def test_a_rejected_file_still_offers_its_columns_to_choose_the_label():
    raw = b"a,b,c\n1,2,3.5\n4,5,6.5\n"
    shown, _p, options, label, disabled = panel.data_preview("upload", contents(raw), "n.csv",
                                                             None)
    assert "no label column found" in shown and disabled is True
    assert [o["value"] for o in options] == ["a", "b", "c"] and label is None


def test_malformed_uploads_are_refused_plainly():
    for raw, words in ((7, "not a file"), ("data:text/csv;base64,@@@", "not valid base64"),
                       ("http://x/y.csv", "not a file")):
        shown, *_rest, disabled = panel.data_preview("upload", raw, "x.csv", None)
        assert words in shown and disabled is True
    with pytest.raises(PreventUpdate):  # no file yet: nothing to do
        panel.data_preview("upload", None, None, None)
    shown, *_rest = panel.data_preview("label", contents(GOOD), "g.csv", "x" * 1000)
    assert "The label column must be a name" in shown


# ---------------------------------------------------------------- using the upload
def test_use_this_data_starts_a_new_run_on_it_and_the_dropdown_says_so(store):
    tab = trained(store)
    old = tab.snapshot()
    pulse, options, value, status, note = tab.use(GOOD, "colours.csv")
    assert isinstance(pulse, str) and status is no_update and value == "csv"
    assert options[-1] == {"label": "your CSV: colours.csv", "value": "csv"}
    assert "colours.csv" in note
    trainer, meta = tab.run()
    expected = csv_dataset(GOOD, name="colours.csv", seed=1)
    assert meta["run"] != old[1] and trainer.iteration == 0 and meta["paused"]
    assert meta["data"]["data"] == "csv" and meta["data"]["file"] == "colours.csv"
    assert "New run on your CSV colours.csv: 60 rows, 2 features, 3 classes." in meta["note"]
    assert trainer.dataset.class_names == ["blue", "green", "red"]
    np.testing.assert_array_equal(trainer.dataset.X_train, expected.X_train)
    spec = load_spec(store.get_data(tab.session))
    assert spec["label"] == "kind" and spec["name"] == "colours.csv"
    # the page shows it: K x K confusion matrix with the CSV's classes, W1 rows by feature
    tab.values["data"] = "csv"
    r = tab.tick("pulse")
    assert r.confusion["data"][0]["x"] == ["blue", "green", "red"]
    assert r.weights["data"][0]["y"] == ["sepal", "petal", "b1"]
    # the dropdown's change fires restart: the same data, nothing to do
    with pytest.raises(PreventUpdate):
        tab.restart("data")


def test_the_run_is_rebuilt_from_the_stored_csv_on_reset_split_and_standardise(store):
    tab = Tab(store)
    tab.tick(None)
    tab.use(GOOD, "colours.csv")
    tab.values["data"] = "csv"
    tab.restart("reset")
    trainer, meta = tab.run()
    assert trainer.dataset.name == "colours.csv" and meta["data"]["data"] == "csv"
    tab.values.update(split="fraction", train_fraction=0.8)
    tab.restart("controls")
    trainer, meta = tab.run()
    assert len(trainer.dataset.X_train) == 48  # 80 % of each class of 20
    assert "split document → fraction" in meta["note"]
    tab.values["standardize"] = ["standardize"]
    tab.restart("controls")
    trainer, meta = tab.run()
    expected = csv_dataset(GOOD, name="colours.csv", split="fraction", train_fraction=0.8,
                           standardize=True)
    assert trainer.dataset.standardized and "standardise off → on" in meta["note"]
    np.testing.assert_array_equal(trainer.dataset.X_test, expected.X_test)
    np.testing.assert_array_equal(trainer.dataset.feature_center, expected.feature_center)
    tab.values["seed"] = 5  # the seed draws the split, too
    tab.restart("controls")
    assert tab.run()[0].dataset.train_indices.tolist() == csv_dataset(
        GOOD, seed=5, split="fraction", train_fraction=0.8,
        standardize=True).train_indices.tolist()


def test_a_csv_the_store_lost_gives_iris_and_says_so(store):
    tab = Tab(store, data="csv")
    r = tab.tick(None)
    trainer, meta = tab.run()
    assert trainer.dataset.name == "iris" and meta["data"]["data"] == "iris"
    assert "Your CSV is no longer on the server" in text_of(r.status)
    # asking for it explicitly says so, and changes nothing
    before = tab.snapshot()
    r = tab.restart("reset")
    assert "Not applied" in text_of(r.status) and "upload it again" in text_of(r.status)
    assert same_run(tab.snapshot(), before)


def test_a_csv_too_big_for_the_network_is_refused_with_what_to_change(store):
    rows = b"".join(f"{i % 97},{i % 89},{i % 83},c{i % 4}\n".encode() for i in range(4000))
    tab = trained(store, hidden=64, layers=4)
    before = tab.snapshot()
    pulse, _o, _v, status, _n = tab.use(b"a,b,c,label\n" + rows, "wide.csv")
    assert pulse is no_update
    assert "too big to train live on 2,000 rows" in text_of(status)
    assert "Use fewer hidden units or layers" in text_of(status)
    assert same_run(tab.snapshot(), before) and store.get_data(tab.session) is None


# ---------------------------------------------------------------- built-in sets
def test_switching_the_data_set_resets_the_run_and_its_sliders(store):
    tab = trained(store)
    old = tab.snapshot()
    tab.values.update(data="spiral", noise=1.5)  # noise left from another set: ignored
    r = tab.restart("data")
    trainer, meta = tab.run()
    expected = make_dataset("spiral", 1)
    assert meta["run"] != old[1] and trainer.iteration == 0
    assert meta["note"] == "New run: data iris → spiral."
    np.testing.assert_array_equal(trainer.dataset.X_train, expected.X_train)
    assert r.data[(cb.PARAM_SLIDERS["noise"], "value")] == 0.2  # the set's default
    assert r.data[(cb.PARAM_SLIDERS["noise"], "max")] == 1.0
    assert r.data[(cb.PARAM_SLIDERS["classes"], "value")] == 3
    # a parameter: a new run with it
    tab.values["classes"] = 5
    tab.restart("controls")
    trainer, meta = tab.run()
    assert trainer.dataset.class_names == [f"arm {k}" for k in range(1, 6)]
    assert meta["note"] == "New run: classes 3 → 5."
    with pytest.raises(PreventUpdate):  # nothing changed
        tab.restart("controls")
    # circles: no classes slider, its own noise range
    tab.values["data"] = "circles"
    r = tab.restart("data")
    assert (cb.PARAM_SLIDERS["classes"], "value") not in r.data
    assert r.data[(cb.PARAM_SLIDERS["noise"], "max")] == 0.5
    assert tab.run()[1]["data"] == {"data": "circles", "points": 100, "classes": None,
                                     "noise": 0.1, "split": "document", "standardize": False,
                                     "train_fraction": None}


def test_a_set_and_its_parameters_changed_together_keep_the_values_given(store):
    """As a link would set them (issue 9): the values given, the set's slider ranges."""
    tab = trained(store)
    tab.values.update(data="blobs", classes=6, noise=1.5)
    r = tab.restart("controls")
    trainer, meta = tab.run()
    assert (meta["data"]["classes"], meta["data"]["noise"]) == (6, 1.5)
    assert meta["note"] == "New run: data iris → blobs."
    assert r.data[(cb.PARAM_SLIDERS["noise"], "max")] == 2.0
    assert (cb.PARAM_SLIDERS["noise"], "value") not in r.data
    np.testing.assert_array_equal(trainer.dataset.X_train, make_dataset(
        "blobs", 1, n_classes=6, noise=1.5).X_train)


def test_a_parameter_outside_the_sets_own_range_is_refused(store):
    tab = trained(store, data="circles", noise=0.1)
    tab.restart("reset")
    before = tab.snapshot()
    tab.values["noise"] = 1.5  # within some set's range (blobs), not circles'
    r = tab.restart("controls")
    assert text_of(r.status) == ("Not applied Noise (sd) must be from 0 to 0.5 for Two "
                                 "circles; got 1.5.")
    assert same_run(tab.snapshot(), before)


def test_document_settings_restore_iris_and_the_documents_split(store):
    tab = Tab(store, data="moons", split="fraction", standardize=["standardize"], hidden=9)
    tab.tick(None)
    assert tab.run()[0].dataset.name == "moons"
    r = cb.restart(store, "document", tab.session, tab.controls(), 0, 0)
    assert r.data == {(cb.ids.DROPDOWN_DATA, "value"): "iris",
                      (cb.ids.RADIO_SPLIT, "value"): "document",
                      (cb.ids.CHECKLIST_STANDARDIZE, "value"): []}
    trainer, meta = tab.run()
    reference = Trainer(Config.document())
    assert trainer.config == Config.document() and meta["data"]["data"] == "iris"
    np.testing.assert_array_equal(trainer.dataset.X_train, reference.dataset.X_train)
    np.testing.assert_array_equal(trainer.params["W1"], reference.params["W1"])


def test_a_spiral_run_trains_and_its_figures_fit_its_shape(store):
    tab = Tab(store, data="spiral", classes=7)
    r = tab.tick(None)
    assert r.confusion["data"][0]["x"] == [f"arm {k}" for k in range(1, 8)]
    assert len(r.confusion["data"][0]["z"]) == 7
    assert r.weights["data"][0]["y"] == ["x1", "x2", "b1"]
    assert r.weights["data"][-1]["x"] == [f"arm {k}" for k in range(1, 8)]
    tab.toggle()
    for _ in range(3):
        r = tab.tick()
    trainer, _meta = tab.run()
    reference = Trainer(Config.document(), make_dataset("spiral", 1, n_classes=7))
    reference.step(trainer.iteration)
    np.testing.assert_array_equal(trainer.params["W1"], reference.params["W1"])
    assert trainer.iteration > 0


def test_new_trainer_is_the_one_way_runs_are_made(store):
    s = validate({**DOCUMENT, **DATA_DEFAULTS, "data": "blobs", "classes": 4,
                  "noise": 0.75, "split": "fraction", "train_fraction": 0.6,
                  "standardize": ["standardize"], "session": "a" * 32})
    trainer = new_trainer(s, store, s.session)
    expected = make_dataset("blobs", 1, n_classes=4, noise=0.75, split="fraction",
                            train_fraction=0.6, standardize=True)
    np.testing.assert_array_equal(trainer.dataset.X_train, expected.X_train)
    assert trainer.config == Config.document()
    # iris with the document's split: the Trainer's own data, exactly main.R's
    doc = new_trainer(validate({**DOCUMENT, "session": "a" * 32}), store, "a" * 32)
    np.testing.assert_array_equal(doc.dataset.X_test, Trainer(Config.document()).dataset.X_test)
    # the data's shape counts against the caps (parameters x training rows)
    big = validate({**DOCUMENT, "hidden": 64, "layers": 4, "data": "spiral", "points": 1000,
                    "classes": 10})
    with pytest.raises(ControlError, match="too big to train live on 5,000 rows"):
        new_trainer(big, store, "a" * 32)


# ---------------------------------------------------------------- validation, view
def test_data_settings_complete_and_check_the_chosen_set():
    assert data_settings(Settings()) == {
        "data": "iris", "points": None, "classes": None, "noise": None,
        "split": "document", "standardize": False, "train_fraction": None}
    s = validate({"data": "xor", "points": 40, "classes": 9, "split": "fraction",
                  "standardize": []})
    assert data_settings(s) == {"data": "xor", "points": 40, "classes": None, "noise": 0.1,
                                "split": "fraction", "standardize": False,
                                "train_fraction": 0.7}
    for raw, words in (({"data": "mnist"}, "The data set must be one of iris, spiral"),
                       ({"points": 5}, "Points per class must be from 10 to 1000; got 5."),
                       ({"classes": 2.5}, "Classes must be a whole number"),
                       ({"noise": float("nan")}, "Noise (sd) must be a number"),
                       ({"split": "random"}, "The split must be one of document, fraction."),
                       ({"train_fraction": 0.95}, "The train fraction must be from 0.1 to 0.9"),
                       ({"standardize": ["yes"]}, "Standardise features must be on or off."),
                       ({"standardize": True}, "Standardise features must be on or off."),
                       ({"filename": "a\nb.csv"}, "The file name must be a name"),
                       ({"upload": 7}, "not a file as a browser sends it")):
        with pytest.raises(ControlError, match=words.replace("(", r"\(").replace(")", r"\)")):
            validate(raw)
    assert validate({"filename": "C:\\fakepath\\mine.csv"}).filename == "mine.csv"
    assert validate({"noise": 0.30000000000000004}).noise == 0.3
    assert validate({"upload": None}).upload is None  # no file yet


def test_the_data_group_shows_only_what_applies():
    info, points, classes, noise, fraction, *texts = cb.show_data(
        "circles", "document", 200, 4, 0.25, 0.7)
    assert info.startswith("A ring of radius 0.5")
    assert (points, classes, noise) == ("param", f"param {HIDDEN}", "param")
    assert fraction == f"param {HIDDEN}" and texts == ["200", "4", "0.25", "0.7"]
    info, *classes_of = cb.show_data("csv", "fraction", 200, 4, 0.25, 0.65)[:5]
    assert info.startswith("Your own CSV") and classes_of == [f"param {HIDDEN}"] * 3 + ["param"]
    assert cb.show_data("iris", "document", "x", 4, 0.2, 0.7)[5] == "?"


def test_the_data_tab_describes_the_current_run(store):
    tab = Tab(store, data="spiral", split="fraction", train_fraction=0.6)
    tab.tick(None)
    run = tab.client["run"]
    children, shown = panel.data_current(store, run, tab.session)
    text = text_of(children)
    assert shown == run
    assert "Spiral (CS231n): 300 rows (180 training, 120 test), 2 features (x1, x2)" in text
    assert "split: train fraction 0.6" in text and "arm 1 60 / 40" in text
    # a page a run behind is told about the session's current run
    tab.values["data"] = "iris"
    tab.restart("data")
    children, shown = panel.data_current(store, run, tab.session)
    assert shown == tab.run()[1]["run"] != run and "Iris" in text_of(children)
    for bad in ("", None, 7):  # nothing to describe
        with pytest.raises(PreventUpdate):
            panel.data_current(store, bad, tab.session)
    with pytest.raises(PreventUpdate):  # a forged session id: refused
        panel.data_current(store, run, "../x")
    with pytest.raises(PreventUpdate):  # no such session: nothing yet
        panel.data_current(store, run, uuid.uuid4().hex)


def test_the_gate_asks_only_for_an_open_tab_and_a_new_run():
    """GATE is the browser's side of data_current (a clientside callback): its conditions."""
    assert 'tab !== "data"' in panel.GATE.js and "run === shown" in panel.GATE.js


def test_the_stored_spec_is_mlpcores_csv_kind():
    spec = json.loads(csv_spec(GOOD, "kind", "c.csv"))
    assert spec == {"kind": "csv", "text": GOOD.decode(), "label": "kind", "name": "c.csv"}
    assert load_spec("not json") is None and load_spec(json.dumps({"kind": "arrays"})) is None
    assert parse_csv(spec["text"], spec["label"]).class_names == ["blue", "green", "red"]


# ------------------------------------------------------------------ property-based
_junk = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                  st.lists(st.sampled_from(["standardize", "x", 1]), max_size=3))
_real = {"data": st.sampled_from(["iris", "spiral", "circles", "xor", "blobs", "moons"]),
         "points": st.integers(10, 60), "classes": st.integers(2, 10),
         "noise": st.sampled_from([0.0, 0.05, 0.2, 0.5, 1.0, 2.0]),
         "split": st.sampled_from(["document", "fraction"]),
         "train_fraction": st.sampled_from([0.1, 0.5, 0.7, 0.9]),
         "standardize": st.sampled_from([[], ["standardize"]])}
_controls = st.fixed_dictionaries(
    {}, optional={k: st.one_of(v, v, v, _junk) for k, v in _real.items()})


@settings(derandomize=True, database=None, deadline=None, max_examples=150,
          suppress_health_check=[HealthCheck.too_slow])
@given(_controls)
def test_data_controls_give_a_run_or_a_plain_control_error(raw):
    """Any values on the data controls: a Trainer on the data they name, or ControlError with
    a sentence; never another exception."""
    try:
        s = validate({**DOCUMENT, **raw, "session": "c" * 32})
        trainer = new_trainer(s, MemoryStore(), s.session)
    except ControlError as exc:
        assert str(exc)[0].isupper() and str(exc).endswith(".")
        return
    data = data_settings(s)
    assert trainer.dataset.name == data["data"]
    assert trainer.dataset.standardized == data["standardize"]
    if data["classes"] is not None:
        assert trainer.dataset.n_classes == data["classes"]
