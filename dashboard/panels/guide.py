"""The first tab: what the lab shows and the document's equations, typeset (static: no
callbacks, so it costs nothing while training)."""

from __future__ import annotations

from dash import dcc, html

TAB = "guide"
LABEL = "Guide"

EQUATIONS = r"""
The network of the document, for $N$ samples, $D$ inputs, $H$ hidden units, $K$ classes:

| | | |
|---|---|---|
| Op.[1]–[2] | $h = \max(0,\; X W^{(1)} + b^{(1)})$ | hidden layer, $N \times H$ |
| Op.[3] | $\sigma^{(2)} = h W^{(2)} + b^{(2)}$ | scores, $N \times K$ |
| Op.[4]–[5] | $q_{ij} = e^{\sigma_{ij}} / \sum_k e^{\sigma_{ik}}$ | probabilities |
| Op.[6]–[8] | $L_D = -\frac{1}{N}\sum_i \log q_{i,y_i}$ | data loss |
| Op.[9] | $L_R = \frac{\lambda}{2}\left(\sum W^{(1)2} + \sum W^{(2)2}\right)$ | reg loss |
| Op.[14] | $\Delta = (q - \mathrm{onehot}(y)) / N$ | dscores |
| Op.[33] | $dW = \partial L_D / \partial W + \lambda W$ | gradients with L2 |
| Op.[34] | $W \leftarrow W - \eta\, dW$ | the update |
"""

HOW_TO = """
**Try this.** Press **Document settings**, then **Train**: the curves, the confusion matrix
and the test accuracy (0.9867 after 3000 iterations) are the tutorial's own numbers, to the
printed digit. Then change one thing at a time:

- *learning rate 1.5*: the loss spikes once and every ReLU unit dies; accuracy falls to
  chance (1/3). *Learning rate 10*: the loss overflows and the run stops as **diverged**.
- *regularisation 0.1*: the weights stay small and the loss cannot go below the reg term.
- *hidden units 1 or 2*: too few units to separate versicolor from virginica.
- *activation tanh* or *2 layers*: the same problem, another network.

**Reading the figures.** The curves are the document's plot: loss (red) and test accuracy
(blue) every display step. The confusion matrix counts test rows by true class (rows) and
predicted class (columns): a perfect model fills only the diagonal. The weight heatmaps show
each weight matrix (blue negative, red positive; the last row is the bias).
"""


def layout():
    return html.Div(className="panel-body guide", children=[
        # mathjax=True on every Markdown of the page: a plain Markdown next to a MathJax one
        # makes MathJax typeset with unmeasured fonts (SVG "NaNex" errors in the console)
        dcc.Markdown(HOW_TO, mathjax=True, className="guide-text"),
        dcc.Markdown(EQUATIONS, mathjax=True, className="guide-math"),
    ])


def register(app, store) -> None:
    """The guide is static."""
