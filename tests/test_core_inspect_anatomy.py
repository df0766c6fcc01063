"""Math inspector data (mlpcore.anatomy): every quantity against independent computations."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from conftest import REFERENCE_DIR

from mlpcore import Config, Trainer, network, to_plain
from mlpcore.anatomy import anatomy
from mlpcore.gradcheck import numerical_gradient


def _by_name(result) -> dict:
    return {e["name"]: e["value"] for e in result["entries"]}


@pytest.fixture(scope="module")
def doc300():
    t = Trainer(Config.document())
    t.step(300)
    return t


def test_batch_matches_network_functions(doc300):
    t, d = doc300, doc300.dataset
    v = _by_name(anatomy(t))
    score, (_, hidden) = network.forward(t.params, d.X_train)
    data_loss, dscores = network.softmax_loss(score, d.y_train)
    grads = network.backward(dscores, (d.X_train, hidden), t.params, "relu", t.config.reg)
    assert np.array_equal(v["x"], d.X_train) and np.array_equal(v["y"], d.y_train)
    assert np.array_equal(v["sigma1"], d.X_train @ t.params["W1"] + t.params["b1"])
    assert np.array_equal(v["h1"], hidden[0]) and np.array_equal(v["sigma2"], score)
    assert np.allclose(v["e"], np.exp(score), rtol=1e-15, atol=0)
    assert np.allclose(v["probs"], network.predict_proba(t.params, d.X_train), rtol=1e-15)
    assert np.allclose(v["probs"], v["e"] / v["S"], rtol=1e-14)
    rows = np.arange(len(d.y_train))
    assert np.allclose(v["correct_logprobs"], -np.log(v["probs"][rows, d.y_train]), rtol=1e-15)
    assert v["data_loss"] == data_loss
    assert v["reg_loss"] == network.reg_loss(t.params, t.config.reg)
    assert v["loss"] == data_loss + v["reg_loss"]
    assert np.array_equal(v["dscores"], dscores)
    assert np.array_equal(v["deriv1"], (hidden[0] > 0).astype(float))
    assert np.array_equal(v["dsigma1"], v["dhidden1"] * (hidden[0] > 0))
    for name in ("W1", "b1", "W2", "b2"):
        assert np.array_equal(v["d" + name], grads[name]), name
    assert np.array_equal(v["dW2"], v["dW2_data"] + v["reg_W2"])
    assert np.array_equal(v["reg_W1"], t.config.reg * t.params["W1"])


def test_numbers_of_the_document_run(doc300):
    """The inspector's loss at the current params is the document's loss at the next iteration,
    and its Op.[34] update is the trainer's next step."""
    ref = json.loads((REFERENCE_DIR / "r_document_run.json").read_text())
    losses = ref["loss_every_iteration"]
    t = Trainer(Config.document())
    t.step(299)
    v = _by_name(anatomy(t))
    assert v["loss"] == pytest.approx(losses[299], rel=1e-12)  # iteration 300, 1-based
    t.step(1)
    for name in ("W1", "b1", "W2", "b2"):
        assert np.allclose(v[name + "_next"], t.params[name], rtol=1e-12, atol=1e-15), name


def test_single_row_gradients_sum_to_the_batch_gradient(doc300):
    t, d = doc300, doc300.dataset
    batch = _by_name(anatomy(t))
    N, reg = len(d.y_train), t.config.reg
    sums = {k: 0.0 for k in ("dW1_data", "db1", "dW2_data", "db2")}
    for i in range(N):
        one = anatomy(t, rows=i)
        v = _by_name(one)
        assert one["mode"] == "sample" and one["N"] == 1 and one["label"] == d.y_train[i]
        assert v["dscores"].shape == (1, 3) and v["h1"].shape == (1, 6)
        assert np.allclose(v["dscores"] / N, batch["dscores"][i:i + 1], rtol=1e-13, atol=0)
        assert v["data_loss"] == pytest.approx(batch["correct_logprobs"][i], rel=1e-15)
        for k in sums:
            sums[k] = sums[k] + v[k]
    for k in sums:
        assert np.allclose(sums[k] / N, batch[k], rtol=1e-10, atol=1e-17), k
    assert np.allclose(sums["dW1_data"] / N + reg * t.params["W1"], batch["dW1"], rtol=1e-10)


def test_single_row_gradient_against_finite_differences():
    t = Trainer(Config(activation="tanh", hidden=(5, 4), maxit=100, lr=0.1))
    t.step(40)
    d, reg = t.dataset, t.config.reg
    params = {k: v.copy() for k, v in t.params.items()}
    row = 7
    v = _by_name(anatomy(params, d.X_train, d.y_train, "tanh", reg, rows=row))
    x, y = d.X_train[row:row + 1], d.y_train[row:row + 1]

    def loss():
        score = network.forward(params, x, "tanh")[0]
        return network.softmax_loss(score, y)[0] + network.reg_loss(params, reg)

    for name in params:
        num = numerical_gradient(loss, params[name])
        assert np.allclose(v["d" + name], num, rtol=1e-6, atol=1e-9), name


def test_hand_computed_small_case():
    params = {"W1": np.array([[1.0, -1.0], [0.5, 0.5]]), "b1": np.array([[0.0, -3.0]]),
              "W2": np.eye(2), "b2": np.zeros((1, 2))}
    v = _by_name(anatomy(params, [[1.0, 2.0]], [1], "relu", 0.0, rows=0, lr=0.5))
    q0, q1 = math.e**2 / (math.e**2 + 1), 1 / (math.e**2 + 1)
    assert v["sigma1"].tolist() == [[2.0, -3.0]] and v["h1"].tolist() == [[2.0, 0.0]]
    assert v["sigma2"].tolist() == [[2.0, 0.0]]
    assert np.allclose(v["probs"], [[q0, q1]], rtol=1e-15)
    assert v["loss"] == pytest.approx(math.log(1 + math.e**2), rel=1e-15)
    assert np.allclose(v["dscores"], [[q0, q1 - 1]], rtol=1e-15)
    assert np.allclose(v["dW2"], [[2 * q0, 2 * (q1 - 1)], [0, 0]], rtol=1e-15)
    assert v["deriv1"].tolist() == [[1.0, 0.0]]
    assert np.allclose(v["dsigma1"], [[q0, 0.0]], rtol=1e-15)
    assert np.allclose(v["dW1"], [[q0, 0.0], [2 * q0, 0.0]], rtol=1e-15)
    assert np.allclose(v["W1_next"], params["W1"] - 0.5 * v["dW1"], rtol=1e-15)


# The document (../shared/seed/000_ead02a03732e8b49.txt): the Op number
# each inspector quantity cites, and the formula the document gives there (quoted, or in
# plain text where the document writes it in prose or an image).
DOCUMENT_OPS = {
    "sigma1": ("Op.[1]", r"\sigma_{i}^{(1)} = x_k w_{ki}^{(1)} + b_{i}^{(1)}"),
    "h1": ("Op.[2]", r"h_i = \mathrm{max}(0, \sigma_{i}^{(1)})"),
    "sigma2": ("Op.[3]", r"\sigma_{i}^{(2)} = h_k w_{ki}^{(2)} + b_{i}^{(2)}"),
    "e": ("Op.[4]", r"e_i = \mathrm{exp}(\sigma_{i}^{(2)})"),
    "probs": ("Op.[5]", r"q_i = \frac{e_i}{\sum_{k=1}^{K}{e_k}}"),
    "correct_logprobs": ("Op.[6]-[7]", r"L_D = -\mathrm{log}(q_y)"),
    "data_loss": ("Op.[8]", r"L_D = - \frac{1}{N}\sum_{i=1}^{N}"),
    "reg_loss": ("Op.[9]", r"L_R = \displaystyle{\frac{1}{2}} \lambda"),
    "loss": ("Op.[10]", r"L = L_D + L_R"),
    "dscores": ("Op.[14]", r"q_i - \delta_{iy}"),
    "db2": ("Op.[27]", r"\sum_{j=1}^{N}{\Delta_{j,i}}"),
    "dW2_data": ("Op.[28]", r"hidden.layer^T dscores"),
    "dhidden1": ("Op.[29]", "dhidden = dscores W2^T"),
    "deriv1": ("Op.[30]", r"\frac{\partial h_i}{\partial \sigma_{l}^{(1)}}"),
    "dsigma1": ("Op.[31]", r"\frac{dL_D}{d \sigma_{l}^{(1)}}"),
    "dW1_data": ("Op.[32]", "dW1 = X^T dhidden"),
    "db1": ("Op.[32]", "db1 = ColumnSums(dhidden)"),
    "dW1": ("Op.[33]", "dW1 <- dW1 + lambda W1"),
    "W1_next": ("Op.[34]", r"\theta \leftarrow \theta - \alpha \nabla_{\theta}{L}"),
}


def test_op_numbers_follow_the_document(doc300):
    entries = {e["name"]: e for e in anatomy(doc300)["entries"]}
    for name, (op, _quote) in DOCUMENT_OPS.items():
        assert entries[name]["op"] == op, name
    one = {e["name"]: e["op"] for e in anatomy(doc300, rows=0)["entries"]}
    assert one["data_loss"] == "Op.[7]" and one["db2"] == "Op.[17]" and one["dW2_data"] == "Op.[23]"
    for e in entries.values():
        assert re.fullmatch(r"Op\.\[\d+\](-\[\d+\])?", e["op"]), e
        assert e["shape"] == list(np.shape(e["value"])) and e["tex"] and e["title"]


def test_deeper_net_names_and_tex():
    t = Trainer(Config(hidden=(16, 8), maxit=10))
    r = anatomy(t, rows=3)
    names = [e["name"] for e in r["entries"]]
    for n in ("sigma1", "h1", "sigma2", "h2", "sigma3", "W3", "dhidden2", "dsigma2", "dhidden1",
              "dW3", "W3_next"):
        assert n in names, n
    assert "sigma4" not in names and r["sizes"] == [4, 16, 8, 3]
    v = _by_name(r)
    assert v["sigma3"].shape == (1, 3) and v["h2"].shape == (1, 8) and v["dW2"].shape == (16, 8)
    for e in r["entries"]:  # MathJax refuses a double superscript such as h^{(2)}^{T}
        assert not re.search(r"\^\{\([0-9]\)\}\^", e["tex"]), e["tex"]


def test_json_and_validation(doc300):
    t = Trainer(Config(seed=2024, hidden=(16,), lr=10))
    t.step(10)  # diverged: exp(score) overflows in the inspector's e
    r = anatomy(t)
    text = json.dumps(to_plain(r), allow_nan=False)
    assert "null" in text
    assert json.loads(json.dumps(to_plain(anatomy(doc300, rows=0))))["entries"][0]["name"] == "x"
    with pytest.raises(ValueError):
        anatomy(doc300, rows=75)
    with pytest.raises(ValueError):
        anatomy(doc300, rows=True)
    with pytest.raises(ValueError):
        anatomy(dict(doc300.params))
    with pytest.raises(ValueError):
        anatomy("not a trainer")
    with pytest.raises(ValueError):
        anatomy(dict(doc300.params), [[1.0, 2.0, 3.0, 4.0]], [3])


def test_no_name_the_package_exports_hides_one_of_its_modules():
    """`from .health import health` in mlpcore/__init__ would make mlpcore.health the
    function: `import mlpcore.health as h`, mock.patch("mlpcore.health.X") then miss."""
    import importlib
    import pkgutil

    import mlpcore

    modules = {m.name for m in pkgutil.iter_modules(mlpcore.__path__)}
    assert not modules & set(mlpcore.__all__)
    for name in sorted(modules - {"__main__"}):
        importlib.import_module(f"mlpcore.{name}")
        assert type(getattr(mlpcore, name)).__name__ == "module", name
