"""CSV uploads (mlpcore.csvdata): what is read, every error's exact message, and property
tests that no malformed input raises anything but DataError."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlpcore import (
    MAX_COLUMNS,
    MAX_CSV_BYTES,
    MAX_ROWS,
    Config,
    CsvData,
    DataError,
    Trainer,
    csv_dataset,
    load_iris,
    parse_csv,
)
from mlpcore.csvdata import MISSING

ROWS = "(data rows count from 1 below the header; spreadsheet row {})"
OK = "a,b,kind\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n"


def _error(data, **kw) -> DataError:
    with pytest.raises(DataError) as info:
        parse_csv(data, **kw)
    return info.value


def test_iris_as_an_upload_is_r_iris():
    with open("mlpcore/iris.csv", "rb") as fh:
        d = parse_csv(fh.read())
    X, y, features, classes = load_iris()
    assert isinstance(d, CsvData) and d.label == "Species"
    assert np.array_equal(d.X, X) and np.array_equal(d.y, y)
    assert (d.feature_names, d.class_names) == (features, classes)
    assert d.columns == features + ["Species"]


def test_reads_text_and_bytes_alike():
    a, b = parse_csv(OK), parse_csv(OK.encode())
    c = parse_csv(b"\xef\xbb\xbf" + OK.replace("\n", "\r\n").encode())  # BOM, Windows lines
    for d in (b, c):
        assert np.array_equal(a.X, d.X) and np.array_equal(a.y, d.y)
    assert a.X.dtype == np.float64 and a.y.dtype == np.int64
    assert a.X.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]] and a.y.tolist() == [0, 1, 0, 1]
    assert (a.feature_names, a.class_names, a.label) == (["a", "b"], ["x", "y"], "kind")


def test_class_names_are_sorted_factor_levels():
    d = parse_csv("a,b,s\n1,2,b\n3,4,B\n5,6,a\n7,8,b\n")
    assert d.class_names == ["B", "a", "b"] and d.y.tolist() == [2, 0, 1, 2]  # C-locale order
    d = parse_csv("a,b,n\n1,2,10\n3,4,2\n5,6,1\n7,8,2.0\n")  # numbers sort as numbers
    assert d.class_names == ["1", "2", "10"] and d.y.tolist() == [2, 1, 0, 1]
    d = parse_csv("a,n\n1,0.5\n3,0.25\n", label="n")
    assert d.class_names == ["0.25", "0.5"]


def test_default_label_rule():
    # the last text column, wherever it is
    d = parse_csv("kind,a,b\nx,1,2\ny,3,4\n")
    assert d.label == "kind" and d.feature_names == ["a", "b"]
    # a feature column with one typo is still numeric, so the text column is the label
    e = _error("a,b,kind\n1,2,x\nzz,4,y\n5,6,x\n")
    assert str(e) == f'column "a", row 2 {ROWS.format(3)}: "zz" is not a number'
    # no text column: the last column if it holds few whole numbers
    d = parse_csv("a,b,c\n1.5,2,0\n3,4.5,1\n5,6,2\n")
    assert d.label == "c" and d.class_names == ["0", "1", "2"]
    # chosen explicitly, any column
    d = parse_csv("a,b,c\n1,2,x\n3,4,y\n", label="a", features=["b"])
    assert d.label == "a" and d.feature_names == ["b"] and d.class_names == ["1", "3"]


def test_blank_rows_and_empty_trailing_columns_are_skipped():
    d = parse_csv("a,b,kind,,\n1,2,x,,\n\n,,,,\n3,4,y,,\n\n\n")
    assert d.X.tolist() == [[1, 2], [3, 4]] and d.columns == ["a", "b", "kind"]
    e = _error("a,b,kind\n1,2,x\n\n3,zz,y\n")  # row numbers still count the blank row
    assert str(e) == f'column "b", row 3 {ROWS.format(4)}: "zz" is not a number'


def test_numbers_as_float_reads_them():
    d = parse_csv("a,b,kind\n 1e3 ,-.5,x\n+2,1E-2,y\n")
    assert d.X.tolist() == [[1000.0, -0.5], [2.0, 0.01]]


BIG = "a,b,kind\n" + "1,2,x\n" * (MAX_ROWS // 2) + "3,4,y\n" * (MAX_ROWS // 2)


@pytest.mark.parametrize("data, kw, message", [
    (b"", {}, "the file is empty"),
    ("  \r\n\n ", {}, "the file is empty"),
    (" ,\x0b, \n,", {}, "the file is empty"),
    ("a,b,kind\n", {}, "the file has a header but no data rows"),
    ("a,b,kind\n,,\n\n", {}, "the file has a header but no data rows"),
    (b"\xff\xfea\x00,\x00", {}, "the file is UTF-16 text; save it as CSV UTF-8"),
    (b"PK\x03\x04\x14\x00", {}, "the file is an Excel workbook or another zip archive, not CSV "
                                "text; export it as CSV UTF-8"),
    (b"a,b\n\x00\x01", {}, "the file is not CSV text: it contains NUL bytes (is it a "
                           "spreadsheet, an image or another binary file?)"),
    (b"a,b,kind\n1,2,caf\xe9\n", {}, "the file is not UTF-8 text: byte 0xE9 at offset 16 is not "
                                     "valid UTF-8; save it as CSV UTF-8"),
    ("a,b\ud800", {}, "the text is not valid Unicode: character 4 is a lone surrogate"),
    (12, {}, "expected the file's bytes or text, got int"),
    ("a;b;kind\n1;2;x\n", {}, 'the file has only one column; it seems to use ";" between '
                              "values: save it with commas between values"),
    ("a\tb\tkind\n1\t2\tx\n", {}, "the file has only one column; it seems to use tabs between "
                                  "values: save it with commas between values"),
    ("kind\nx\ny\n", {}, "the file has only one column; it needs numeric feature columns and a "
                         "label column"),
    ("a,b,kind\n1,2,x,9\n", {}, f"row 1 {ROWS.format(2)} has 4 values but the header has 3 "
                                "columns (a comma inside a value needs quotes around the value)"),
    ('a,b,kind\n1,2,x\n3,4,"y\n', {}, f"a quoted value starting in row 2 {ROWS.format(3)} is "
                                      'never closed (a closing " is missing)'),
    ('a,"b,kind\n1,2,x\n', {}, 'a quoted value starting in the header is never closed (a '
                               'closing " is missing)'),
    ("a,b,a\n1,2,x\n", {}, 'duplicate column name "a" (columns 1 and 3); every column needs its '
                           "own name"),
    (" a ,b,a\n1,2,x\n", {}, 'duplicate column name "a" (columns 1 and 3); every column needs '
                             "its own name"),
    (",a,kind\n1,2,x\n", {}, "column 1 has no name in the header; give it one or delete it "
                             "(R's write.csv writes row names there unless row.names = FALSE)"),
    ("5.1,3.5,setosa\n4.9,3,setosa\n", {}, "the first row holds numbers, not column names: the "
                                           "file needs a header row that names its columns"),
    ("name,kind\nann,x\nbob,y\n", {}, 'no numeric feature columns: besides the label column '
                                      '"kind", every column holds text'),
    ("name,a,kind\nann,1,x\nbob,2,y\n", {}, 'column "name" holds text, not numbers; only the '
                                            "label column may hold text (delete the column or "
                                            "choose it as the label)"),
    ("a,b,kind\n1,2,x\n3,4,x\n", {}, 'the label column "kind" has only one class ("x"); a '
                                     "classifier needs at least 2"),
    ("a,b,kind\n1,2,x\n3,4,\n", {}, f'column "kind", row 2 {ROWS.format(3)}: the label is '
                                    "missing"),
    ("a,b,kind\n1,2,x\n3,4,NA\n", {}, f'column "kind", row 2 {ROWS.format(3)}: the label is '
                                      "missing"),
    ("a,b,kind\n1,2,x\n3,four,y\n", {}, f'column "b", row 2 {ROWS.format(3)}: "four" is not a '
                                        "number"),
    ("a,b,kind\n1,2,x\n3,4,y\n5,6%,x\n", {}, f'column "b", row 3 {ROWS.format(4)}: "6%" is '
                                             "not a number"),
    ("a,b,kind\n1,2,x\n3,,y\n", {}, f'column "b", row 2 {ROWS.format(3)}: the value is missing'),
    ("a,b,kind\n1,2,x\n3,NA,y\n", {}, f'column "b", row 2 {ROWS.format(3)}: the value is '
                                      'missing ("NA")'),
    ("a,b,kind\n1,2,x\n3,4\n", {}, f'column "kind", row 2 {ROWS.format(3)}: the label is '
                                   "missing"),
    ("a,b,kind\n1,2,x\n3,NaN,y\n", {}, f'column "b", row 2 {ROWS.format(3)}: "NaN" is not a '
                                       "finite number"),
    ("a,b,kind\n1,-inf,x\n3,4,y\n", {}, f'column "b", row 1 {ROWS.format(2)}: "-inf" is not a '
                                        "finite number"),
    ("a,b,kind\n1,2,x\n1e999,4,y\n", {}, f'column "a", row 2 {ROWS.format(3)}: "1e999" is not '
                                         "a finite number"),
    ("a,b,kind\n1,2,x\n3,Infinity,y\nzz,5,x\n", {}, f'column "b", row 2 {ROWS.format(3)}: '
                                                    '"Infinity" is not a finite number'),
    ("a,b,c\n1,2,3.5\n3,4,5\n", {}, 'no label column found: no column holds text and the last '
                                    'column "c" does not hold whole-number classes (at most 20 '
                                    "different values); choose the label column"),
    (OK, {"label": "class"}, 'unknown label column "class"; the columns are "a", "b", "kind"'),
    (OK, {"label": 2}, "the label column must be given by its name, got 2"),
    (OK, {"features": ["a", "z"]}, 'unknown feature column "z"; the columns are "a", "b", '
                                   '"kind"'),
    (OK, {"features": ["a", "kind"]}, 'the label column "kind" cannot also be a feature'),
    (OK, {"features": ["a", "a"]}, 'feature column "a" is chosen twice'),
    (OK, {"features": []}, "no feature columns were chosen"),
    (OK, {"features": "a"}, "the feature columns must be given as a list of column names"),
    ("a,b\n" + "".join(f"{i},{i}\n" for i in range(21)), {"label": "b"},
     'the label column "b" has 21 different values; the limit is 20 classes (is it really the '
     "label?)"),
    ("a,b,kind\n1,2," + "x" * 60 + "\n3,4,x\n", {"label": "a"},
     'column "kind" holds text, not numbers; only the label column may hold text (delete the '
     "column or choose it as the label)"),
    ('a,"b\nc",kind\n1,2,x\n3,"4\n5",y\n', {}, f'column "b\\nc", row 2 {ROWS.format(3)}: '
                                               '"4\\n5" is not a number'),
    ("a,b,kind\n1," + "9" * 50 + "x,x\n3,4,y\n", {}, f'column "b", row 1 {ROWS.format(2)}: "'
                                              + "9" * 40 + '…" is not a number'),
    # the limits
    ("a" * (MAX_CSV_BYTES + 1), {}, "the file is 5,242,881 bytes; the limit is 5,242,880 bytes "
                                    "(5 MB)"),
    ("é" * 3, {"max_bytes": 5}, "the file is 6 bytes; the limit is 5 bytes (4.76837e-06 MB)"),
    (",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n", {},
     "the file has 51 columns; the limit is 50"),
    ('"a\nb",' + ",".join(f"c{i}" for i in range(MAX_COLUMNS)) + "\n", {},
     "the file has 51 columns; the limit is 50"),
    (BIG + "5,6,x\n", {}, "the file has more than 20,000 data rows; the limit is 20,000"),
])
def test_error_messages(data, kw, message):
    e = _error(data, **kw)
    assert str(e) == message
    assert isinstance(e, ValueError)


def test_a_full_size_file_is_read():
    d = parse_csv(BIG)
    assert d.X.shape == (MAX_ROWS, 2) and np.bincount(d.y).tolist() == [10000, 10000]


def test_errors_after_the_header_carry_the_columns():
    assert _error("a,b,c\n1,2,3.5\n").columns == ["a", "b", "c"]
    assert _error(OK, label="nope").columns == ["a", "b", "kind"]
    assert _error("").columns is None


def test_missing_tokens():
    for token in MISSING:
        e = _error(f"a,b,kind\n1,2,x\n3,{token},y\n")
        assert str(e).endswith("the value is missing" + (f' ("{token}")' if token else ""))


def test_csv_dataset_splits_and_checks_rows_per_class():
    ds = csv_dataset(OK, name="mine.csv", seed=2)
    assert ds.name == "mine.csv" and ds.X_train.shape == (2, 2) and ds.class_names == ["x", "y"]
    ds = csv_dataset(OK * 1 + "".join(f"{i},{i},y\n" for i in range(16)), split="fraction",
                     train_fraction=0.75, standardize=True)
    assert np.bincount(ds.y_train).tolist() == [1, 14] and ds.standardized  # x: 2 rows
    with pytest.raises(DataError) as info:
        csv_dataset("a,b,kind\n1,2,x\n3,4,y\n5,6,y\n")
    assert str(info.value) == ('class "x" has 1 row; every class needs at least 2 rows (one '
                               "to train on, one to test on)")
    with pytest.raises(DataError) as info:
        csv_dataset(OK, seed=2.5)
    assert str(info.value) == ("seed must be a whole number from -2147483647 to 2147483647, "
                               "got 2.5")


# --- properties: malformed input gives a DataError or a valid data set, nothing else -------

FIXED = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])

CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["NaN", "nan", "Inf", "-Infinity", "NA", "", "1e999", "-1e-400", "1_000",
                     " 3 ", '"4"', '"5,6"', "0x1F", "1e", ".", "-", "abc", "x", "y", "é",
                     '"a""b"', "\ufeff1", "١٢", "1,5", "\t", "null", "?"]),
    st.text(alphabet='ab01.,;"\n\r -eE', max_size=6),
)


def _valid(d: CsvData) -> None:
    N, D = d.X.shape
    K = len(d.class_names)
    assert d.X.dtype == np.float64 and np.isfinite(d.X).all() and D == len(d.feature_names) >= 1
    assert d.y.dtype == np.int64 and d.y.shape == (N,) and N >= 2
    assert 2 <= K <= 20 and set(d.y.tolist()) == set(range(K))
    assert d.label in d.columns and d.label not in d.feature_names
    assert set(d.feature_names) <= set(d.columns) and len(set(d.columns)) == len(d.columns)


def _check(data) -> None:
    try:
        d = parse_csv(data)
    except DataError as e:
        assert str(e) and "\n" not in str(e)  # one line, for the CLI and the UI
        return
    _valid(d)
    try:
        ds = csv_dataset(data, split="fraction", standardize=True)
    except DataError as e:
        assert "rows" in str(e) or "standardise" in str(e)
        return
    t = Trainer(Config(hidden=(3,), maxit=3, display=1), ds)
    t.step(3)


@FIXED
@given(st.binary(max_size=300))
def test_random_bytes(data):
    _check(data)


@FIXED
@given(st.text(alphabet='abx1.5,;"\n\r\t -eE\x00é', max_size=200))
def test_random_text_with_csv_punctuation(text):
    _check(text)


@FIXED
@given(st.integers(1, 4), st.lists(st.lists(CELLS, min_size=1, max_size=5), max_size=12),
       st.lists(st.sampled_from(["x", "y", "z"]), min_size=12, max_size=12))
def test_csv_shaped_input_with_numeric_edge_cases(width, rows, labels):
    head = ",".join(f"f{i}" for i in range(width)) + ",kind"
    body = [",".join(r[:width]) + "," + lab for r, lab in zip(rows, labels, strict=False)]
    _check("\n".join([head, *body]) + "\n")


@FIXED
@given(st.lists(st.tuples(st.floats(-1e300, 1e300), st.floats(-1e300, 1e300),
                          st.sampled_from(["p", "q"])), min_size=4, max_size=30))
def test_well_formed_numbers_round_trip(rows):
    text = "u,v,kind\n" + "".join(f"{a!r},{b!r},{k}\n" for a, b, k in rows)
    try:
        d = parse_csv(text)
    except DataError as e:
        assert "only one class" in str(e) or "holds numbers" in str(e)
        return
    assert d.X.tolist() == [[a, b] for a, b, _ in rows]  # exact: float(repr(x)) == x
    _valid(d)


def test_numeric_labels_that_print_alike_are_one_class():
    d = parse_csv("a,b,label\n1,2,1\n3,4,1.0000000000000002\n5,6,2\n7,8,2\n", label="label")
    assert d.class_names == ["1", "2"] and list(d.y) == [0, 0, 1, 1]
