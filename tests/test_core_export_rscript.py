"""The R replay script: the document's functions verbatim, and exactly the lab's settings and
data, read back out of the generated text (R itself is not installed here)."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest

from mlpcore import Config, Dataset, Trainer, csv_dataset, make_dataset, rscript
from mlpcore.__main__ import run as cli
from mlpcore.export import load_model
from mlpcore.rscript import r_script, r_script_problems

# The document's code blocks, copied verbatim as the document prints them (one line per block,
# line breaks lost): train.dnn's prototype and body, predict.dnn, and main.R's split.
DOCUMENT_BLOCKS = [
    "train.dnn <- function(x, y, traindata = data, testdata = NULL, model = NULL, # set hidden layers and neurons # currently, only support 1 hidden layer hidden = base::c(6), # max iteration steps maxit = 2000, # delta loss abstol = 1e-2, # learning rate lr = 1e-2, # regularization rate reg = 1e-3, # show results every 'display' step display = 100, random.seed = 1)",  # noqa: E501
    "# to make the case reproducible. base::set.seed(random.seed)",
    "# total number of training set N <- base::nrow(traindata)",
    "# extract the data and label # don't need atribute X <- base::unname(base::data.matrix(traindata[,x]))",  # noqa: E501
    "# correct categories represented by integer Y <- traindata[,y]",
    "if(base::is.factor(Y)) { Y <- base::as.integer(Y) }",
    "# create index for both row and col Y.len <- base::length(base::unique(Y)) Y.set <- base::sort(base::unique(Y)) Y.index <- base::cbind(1:N, base::match(Y, Y.set))",  # noqa: E501
    "# number of input features D <- base::ncol(X) # number of categories for classification K <- base::length(base::unique(Y)) H <- hidden # create and initialize weights and bias W1 <- 0.01 * base::matrix(stats::rnorm(D*H), nrow = D, ncol = H) b1 <- base::matrix(0, nrow=1, ncol=H) W2 <- 0.01 * base::matrix(stats::rnorm(H*K), nrow = H, ncol = K) b2 <- base::matrix(0, nrow = 1, ncol = K)",  # noqa: E501
    "# use all train data to update weights since it's a small dataset batchsize <- N # initialize loss to a very big value loss <- 100000",  # noqa: E501
    "# Training the network i <- 0 while(i < maxit && loss > abstol) { # iteration index i <- i +1 # forward .... # 1 indicate row, 2 indicate col hidden.layer <- base::sweep(X %*% W1, 2, b1, '+') # neurons : ReLU hidden.layer <- base::pmax(hidden.layer, 0) score <- base::sweep(hidden.layer %*% W2, 2, b2, '+') # softmax score.exp <- base::exp(score) # debug probs <- score.exp / base::rowSums(score.exp) # compute the loss correct.logprobs <- -log(probs[Y.index]) data.loss <- base::sum(correct.logprobs) / batchsize reg.loss <- 0.5 * reg * (base::sum(W1 * W1) + base::sum(W2 * W2)) loss <- data.loss + reg.loss # backward .... dscores <- probs dscores[Y.index] <- dscores[Y.index] - 1 dscores <- dscores / batchsize dW2 <- base::t(hidden.layer) %*% dscores db2 <- base::colSums(dscores) dhidden <- dscores %*% base::t(W2) dhidden[hidden.layer <= 0] <- 0 dW1 <- base::t(X) %*% dhidden db1 <- base::colSums(dhidden) # update .... dW2 <- dW2 + reg * W2 dW1 <- dW1 + reg * W1 W1 <- W1 - lr * dW1 b1 <- b1 - lr * db1 W2 <- W2 - lr * dW2 b2 <- b2 - lr * db2 }",  # noqa: E501
    "# final results # creat list to store learned parameters # you can add more parameters for debug and visualization # such as residuals, fitted.values ... model <- list( D = D, H = H, K = K, # weights and bias W1 = W1, b1 = b1, W2 = W2, b2 = b2) # plotting with Plotly learning_val <- learning_val[-1,] p <- plotly::plot_ly(data = learning_val, x = ~Epoch, y = ~Loss, name = \"Loss\", type = 'scatter', mode = 'lines+markers', line = list(color = 'rgb(205, 12, 24)', width = 3)) %>% add_trace(y = ~Accuracy, name = \"Accuracy\", line = list(color = 'rgb(22, 96, 167)', width = 4)) %>% layout(title = \"Loss & Accuracy as Steps Proceed\", xaxis = list(title = \"steps\"), yaxis = list (title = \"Loss & Acc.\")) print(p) return(model)",  # noqa: E501
    "# Prediction predict.dnn <- function(model, data = X.test) { # new data, transfer to matrix new.data <- base::data.matrix(data) # Feed Forwad hidden.layer <- base::sweep(new.data %*% model$W1, 2, model$b1, '+') # neurons : Rectified Linear hidden.layer <- base::pmax(hidden.layer, 0) score <- base::sweep(hidden.layer %*% model$W2, 2, model$b2, '+') # Loss Function: softmax score.exp <- base::exp(score) probs <- base::sweep(score.exp, 1, base::rowSums(score.exp), '/') # select max possiblity labels.predicted <- base::max.col(probs) return(labels.predicted) }",  # noqa: E501
    "samp <- base::c(base::sample(1:50,25), base::sample(51:100,25), base::sample(101:150,25))",
]


def _words(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------- reading R text back
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r'\\(u\{[0-9a-fA-F]+\}|U\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)')


def _r_unquote(body: str) -> str:
    def one(m):
        e = m.group(1)
        if e[0] in "uU":
            return chr(int(e[2:-1], 16))
        if e[0] == "x":
            return chr(int(e[1:], 16))
        return {"n": "\n", "t": "\t"}.get(e, e)
    return _ESCAPE.sub(one, body)


def _strings(text: str) -> list[str]:
    return [_r_unquote(s) for s in _STRING.findall(text)]


def _number(token: str) -> float:
    token = token.strip()
    return float.fromhex(token) if "0x" in token else float(token)


def _call(script: str) -> dict:
    """The train.dnn(...) call's keyword arguments, as numbers."""
    m = re.search(r"<- train\.dnn\((.*?)\)\n", script, re.S)
    assert m, "no train.dnn call"
    pairs = re.findall(r"([\w.]+) = ((?:\[[^\]]*\]|[^,\[])+)", _words(m.group(1)))
    return {k: v.strip() for k, v in pairs}


def _frame(script: str, var: str) -> tuple[np.ndarray, list[str], list[str], list[str], list]:
    """(X, labels, levels, names, row names) of an embedded data.frame."""
    start = script.index(f"{var} <- base::data.frame(")
    block = script[start:script.index("\n\n", start)]  # a blank line follows each frame
    numeric = re.findall(r"V\d+ = base::c\(([^()]*)\)", block)
    for token in ",".join(numeric).split(","):  # forms R's parser reads exactly
        assert re.fullmatch(r"-?(0x1(\.[0-9a-f]*[1-9a-f])?p[+-]\d+|0x0\.[0-9a-f]+p-1022|"
                            r"\d{1,15})", token.strip()), token
    X = np.array([[_number(t) for t in col.split(",")] for col in numeric]).T
    factor = re.search(r"base::factor\(base::c\((.*?)\),\s*levels = base::c\((.*?)\)\)", block,
                       re.S)
    names = _strings(re.search(rf"base::names\({var}\) <- (.*?)\nbase::row", block, re.S)[1])
    rows = re.search(rf"base::row\.names\({var}\) <- base::c\((.*?)\)$", block, re.S).group(1)
    return (X, _strings(factor.group(1)), _strings(factor.group(2)), names,
            [int(r) for r in rows.replace("\n", " ").split(",")])


# ------------------------------------------------------------------------------------ tests
def test_document_run_is_main_r_with_the_documents_functions():
    script = r_script(Config.document())
    without_lab = _words("\n".join(line for line in script.splitlines() if "# LAB" not in line))
    for block in DOCUMENT_BLOCKS:
        assert _words(block) in without_lab
    assert "set.seed(1)\n" in script
    assert 'sample.kind = "Rounding"' in script and "RNGkind(" in script
    assert "labels.dnn <- predict.dnn(ir.model, iris[-samp, -5])" in script
    assert "data.frame(\n" not in script  # iris comes from R itself
    call = _call(script)
    assert call == {"x": "1:4", "y": "5", "traindata": "iris[samp,]",
                    "testdata": "iris[-samp,]", "hidden": "6", "maxit": "3000",
                    "abstol": "0.01", "lr": "0.01", "reg": "0.001", "display": "50",
                    "random.seed": "1"}
    # the same script whether asked with the config or with the (trained) run
    t = Trainer(Config.document())
    body = script[script.index("# R's generator"):]
    assert r_script(t)[r_script(t).index("# R's generator"):] == body


@pytest.mark.parametrize("config", [
    Config(seed=7, hidden=(9,), lr=0.1, reg=0.0, maxit=1200, abstol=0.001, display=25),
    Config(seed=-3, hidden=(2,), lr=1e-05, reg=0.3, maxit=7, abstol=0.0, display=1,
           sample_kind="rejection"),
])
def test_settings_in_the_script_are_the_runs(config):
    t = Trainer(config)
    script = r_script(t)
    call = _call(script)
    assert int(call["hidden"]) == config.hidden[0] and int(call["maxit"]) == config.maxit
    assert float(call["lr"]) == config.lr and float(call["reg"]) == config.reg
    assert float(call["abstol"]) == config.abstol and int(call["display"]) == config.display
    assert int(call["random.seed"]) == config.seed
    assert f"set.seed({config.seed})\n" in script
    kind = config.sample_kind.capitalize()
    assert re.findall(r'sample\.kind = "(\w+)"', script) == [kind]
    assert ("stop(" in script) == (kind == "Rejection")  # old R cannot draw this split
    assert "iris[samp,]" in script  # the document's split with this seed: main.R's code


def _check_embedded(script: str, ds: Dataset) -> None:
    for var, X, y, idx in (("traindata", ds.X_train, ds.y_train, ds.train_indices),
                           ("testdata", ds.X_test, ds.y_test, ds.test_indices)):
        Xr, labels, levels, names, rows = _frame(script, var)
        assert np.array_equal(Xr, X)  # bit for bit
        assert labels == [ds.class_names[k] for k in y]
        assert levels == ds.class_names
        assert names[:-1] == ds.feature_names and names[-1] not in ds.feature_names
        assert rows == idx.tolist()
    D = ds.n_features
    call = _call(script)
    assert call["x"] == f"1:{D}" and call["y"] == str(D + 1)
    assert call["traindata"] == "traindata" and call["testdata"] == "testdata"
    assert "base::sample(" not in script


def test_standardised_toy_data_are_embedded_exactly():
    ds = make_dataset("moons", seed=11, n_points=30, noise=0.2, split="fraction",
                      train_fraction=0.7, standardize=True)
    t = Trainer(Config(seed=11, hidden=(5,), lr=0.3, maxit=800), ds)
    t.step(100)
    script = r_script(t)
    _check_embedded(script, ds)
    assert "standardised" in script.split("# R's generator")[0]
    assert f"{ds.feature_center[0]:.7g}" in script
    assert int(_call(script)["random.seed"]) == 11
    assert "iteration 100 (running)" in script


def test_iris_with_another_split_is_embedded():
    ds = make_dataset("iris", seed=1, split="fraction", train_fraction=0.8)
    script = r_script(Config.document(), ds)
    _check_embedded(script, ds)
    assert "# Data: iris: 120 training and 30 test rows" in script


def test_names_cannot_break_out_of_r_strings():
    evil = 'x")\nsystem("rm -rf ~")  # \\'
    ds = Dataset(name="up\nload", X_train=[[1.5, 2], [3, 4]], y_train=[0, 1],
                 X_test=[[0.1, -0.25]], y_test=[1],
                 feature_names=[evil, "na\u00efve \U0001f600"], class_names=["a\tb", "c\"d"])
    script = r_script(Config(seed=1, hidden=(3,)), ds)
    _check_embedded(script, ds)
    assert all(not line.startswith("system(") for line in script.splitlines())
    assert script.isascii()


def test_csv_upload_is_embedded_exactly():
    text = "len,wid,kind\n" + "".join(f"{i / 7:.6f},{(i * 37 % 11) / 3},k{i % 3}\n"
                                      for i in range(30))
    ds = csv_dataset(text, name="mine.csv", seed=4, standardize=False)
    _check_embedded(r_script(Config(seed=4), ds), ds)


def test_runs_the_document_cannot_express_are_refused_with_every_reason():
    config = Config(hidden=(4, 4), activation="tanh", batch_size=10, init_scale=0.1)
    problems = r_script_problems(config)
    assert len(problems) == 4
    with pytest.raises(ValueError) as exc:
        r_script(config)
    for words in ("2 hidden layers", "tanh", "mini-batches of 10", "0.1 * rnorm"):
        assert words in str(exc.value)
    assert r_script_problems(Config(batch_size=75)) == []  # a batch of all rows: full batch
    assert r_script_problems(Trainer(Config.document())) == []


def test_a_class_without_training_rows_is_refused():
    ds = Dataset(name="d", X_train=[[1.0], [2.0]], y_train=[0, 0], X_test=[[3.0]], y_test=[1],
                 feature_names=["f"], class_names=["A", "B"])
    assert r_script_problems(Config(), ds) == [
        'class "B" has no training row; the document\'s train.dnn counts the classes of its '
        "training rows"]


def test_data_too_large_to_embed_is_refused(monkeypatch):
    monkeypatch.setattr(rscript, "MAX_EMBEDDED_VALUES", 100)
    ds = make_dataset("blobs", seed=1, n_points=30)
    assert any("more than the 100" in p for p in r_script_problems(Config(), ds))
    assert r_script_problems(Config()) == []  # iris with main.R's split embeds nothing


def test_a_diverged_run_says_r_will_stop():
    t = Trainer(Config(seed=2024, hidden=(16,), lr=10.0, maxit=50))
    t.step(50)
    assert "missing value where TRUE/FALSE needed" in r_script(t)


def test_cli_writes_the_exports(tmp_path):
    paths = {k: tmp_path / f"out.{k}" for k in ("json", "csv", "R")}
    out, err = io.StringIO(), io.StringIO()
    argv = ["--data", "xor", "--points", "20", "--maxit", "300", "--seed", "3",
            "--save-model", str(paths["json"]), "--save-history", str(paths["csv"]),
            "--save-r", str(paths["R"])]
    assert cli(argv, out, err) == 0, err.getvalue()
    t = Trainer(Config(seed=3, maxit=300), make_dataset("xor", seed=3, n_points=20))
    t.step(300)
    assert paths["R"].read_text() == r_script(t)
    model = load_model(paths["json"].read_text())
    assert np.array_equal(model.predict(t.dataset.X_test), t.predict(t.dataset.X_test))
    assert json.loads(paths["json"].read_text())["metrics"]["iterations"] == 300
    assert paths["csv"].read_text().count("\n") == 1 + 300 // 50
    err = io.StringIO()
    assert cli(["--hidden", "3,3", "--save-r", str(tmp_path / "x.R")], io.StringIO(), err) == 2
    assert "cannot replay" in err.getvalue() and not (tmp_path / "x.R").exists()
