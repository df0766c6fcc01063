"""The training loop's arithmetic, in place and allocation-free: the fast twin of network.py.

Departures from the document's notation, for speed only (same formulas):
- every buffer is stored transposed, features x rows (``hidden_layer`` here is
  ``t(hidden.layer)``), and carries a constant row of ones, so each bias folds into its
  matmul: ``t(X %*% W1 + b1) = t([W1; b1]) %*% t([X, 1])``; ``colSums(dhidden)`` comes out of
  the same matmul as ``dW1``;
- all parameters live in one flat float64 vector ``theta`` laid out as [W1; b1], [W2; b2], ...
  (each block row-major), the gradient in a twin vector ``grad``: the update Op.[33]-[34]
  is three vector operations whatever the depth;
- a large full batch is cut into row tiles that stay in cache, in two fixed groups
  (even / odd tiles) that two threads can run at once; the gradient is group 0's sum plus
  group 1's, the same whatever the machine. Meanwhile BLAS runs single-threaded (its own
  threads cost more than they give on matrices this thin).
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .activations import ACTIVATIONS
from .blas import single_threaded_blas
from .buffers import Rows, Scratch, layout, views
from .fastloop import run_one_block

__all__ = ["layout", "Engine"]

_dot, _log, _exp = np.dot, np.log, np.exp
_sub, _div, _mul, _add = np.subtract, np.divide, np.multiply, np.add
_max_reduce, _isfinite = np.maximum.reduce, math.isfinite
_GROUPS = 2  # fixed, so sums do not depend on the machine
_BLAS_THREADED_ABOVE = 1 << 18  # OpenBLAS goes multi-threaded above M*N*K of about this
_POOL = None


def _forget_pool():
    global _POOL
    _POOL = None  # a forked child must not reuse the parent's threads


os.register_at_fork(after_in_child=_forget_pool)


def _pool():
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_GROUPS, thread_name_prefix="mlpcore")
    return _POOL


class Engine:
    """Preallocated forward / backward / update for one architecture and one data set.

    ``theta`` (flat float64) is updated in place. ``batch_size`` None or >= N: full batch.
    """

    def __init__(self, sizes, activation, theta, X_train, y_train, X_test, y_test,
                 batch_size=None, tile_rows=None):
        self.sizes = sizes = list(sizes)
        D, K = sizes[0], sizes[-1]
        self.f, self.df = ACTIVATIONS[activation]
        self.relu = activation == "relu"
        P, N = len(theta), len(y_train)
        n_rows = min(batch_size or N, N)
        if batch_size is None or batch_size >= N:
            n_rows = N if N <= 2 * self._tile_rows(sizes, tile_rows) else 0  # tiled: unused
        # theta and work get n_rows extra slots so that one dot gives the whole loss (see
        # fastloop.py): [theta | -2/N] . [reg * W | log(probs[Y.index])] = 2 * loss
        self._theta_ext = np.full(P + n_rows, -2.0 / max(n_rows, 1))
        self._work_ext = np.zeros(P + n_rows)
        self.theta, self.work = self._theta_ext[:P], self._work_ext[:P]  # work: reg * W, lr * dW
        self.theta[:] = theta
        self.grad = np.zeros_like(self.theta)
        self.ones_kk = np.ones((K, K))  # ones_kk @ m: column sums, K times
        self.fast = True  # False: always the un-inlined path (tests compare the two)
        self.Wa = views(self.theta, sizes)  # [W; b] per layer
        self.WaT = [w.T for w in self.Wa]
        self.W = [w[:-1] for w in self.Wa]
        self.regmask = np.zeros_like(theta)  # 1 on weights, 0 on biases
        for o, i, j in layout(sizes)[0]:
            self.regmask[o:o + i * j] = 1.0
        self.regvec = np.zeros_like(theta)
        self.lr = np.zeros(())  # 0-d arrays are the cheapest scalars for ufuncs
        self.N = len(y_train)
        self.X_train, self.y_train, self.X_test, self.y_test = X_train, y_train, X_test, y_test
        self.batch = None if batch_size is None or batch_size >= self.N else int(batch_size)
        n = self.batch or self.N
        self.n_div = np.array(float(n))  # R's batchsize
        self.tile_rows = self._tile_rows(sizes, tile_rows)
        if self.batch is not None:
            self.tiles = [Rows(D, K, self.batch)]
            self.XT = np.ascontiguousarray(X_train.T)
        else:
            self.tiles = self._cut(X_train, y_train)
        if len(self.tiles) == 1:
            self.groups = None
            self.scratch = Scratch(sizes, self.tiles[0].n)
            self.scratch.logp = self._work_ext[P:]
            self.grads = views(self.grad, sizes)
        else:  # per group: its tiles, its scratch per tile size, its gradient sum
            self.groups = []
            for g in range(_GROUPS):
                tiles = self.tiles[g::_GROUPS]
                scratch = {r.n: Scratch(sizes, r.n) for r in tiles}
                gsum, gtile = np.zeros_like(theta), np.zeros_like(theta)
                self.groups.append((tiles, scratch, gsum, gtile, views(gtile, sizes)))
        big = max((i + 1) * j for _, i, j in layout(sizes)[0]) * max(r.n for r in self.tiles)
        self.limit_blas = big > _BLAS_THREADED_ABOVE
        self._test = None  # tiles of the test set, built on first use

    @staticmethod
    def _tile_rows(sizes, tile_rows=None):
        """Rows per tile: about 2 MiB of buffers (measured best on 2 cores / 1 MiB L2 each)."""
        if tile_rows is not None:
            return tile_rows
        per_row = 8 * (sizes[0] + 2 + 3 * sum(h + 1 for h in sizes[1:-1]) + 6 * sizes[-1])
        return max(256, (1 << 21) // per_row)

    def _cut(self, X, y):
        """Row tiles of about tile_rows rows (one tile when N <= 2 tile_rows)."""
        N = len(y)
        n_tiles = -(-N // self.tile_rows) if N > 2 * self.tile_rows else 1
        n_tiles = max(n_tiles, 1)
        edges = [N * t // n_tiles for t in range(n_tiles + 1)]
        D, K = self.sizes[0], self.sizes[-1]
        spans = zip(edges[:-1], edges[1:], strict=True)
        return [Rows(D, K, b - a).set(X[a:b], y[a:b]) for a, b in spans]

    def set_hyper(self, lr, reg):
        self.lr[()] = lr
        np.multiply(self.regmask, reg, out=self.regvec)

    # -- the pieces ----------------------------------------------------------------------------
    def forward(self, rows, s):
        """Op.[1]-[7] on one block; returns sum(log(probs[Y.index]))."""
        a, f, WaT = rows.Xa, self.f, self.WaT
        for l, hid in enumerate(s.hidden):
            h = hid[:-1]
            _dot(WaT[l], a, h)  # Op.[1]: X %*% W + b (the bias via the ones row)
            f(h, out=h)  # Op.[2]: hidden_layer = max(0, .)
            a = hid
        score, probs, rowsum, logp = s.score, s.probs, s.rowsum, s.logp
        _dot(WaT[-1], a, score)  # Op.[3]: score
        _max_reduce(score, axis=0, out=s.rowmax)
        _sub(score, s.rowmax, score)  # minus the row maximum: same probs, no overflow
        _exp(score, probs)  # Op.[4]: score.exp
        _dot(self.ones_kk, probs, rowsum)  # rowSums(score.exp)
        _div(probs, rowsum, probs)  # Op.[5]: probs
        probs.take(rows.yidx, out=logp)  # probs[Y.index]
        _log(logp, logp)  # Op.[6]-[7]: -correct_logprobs
        return float(_dot(logp, s.ones))

    def backward(self, rows, s, grads):
        """Op.[14]-[32] on one block: data-loss gradients [dW; db] written into grads."""
        dout, W = s.dscores, self.W
        _sub(s.probs, rows.onehot, dout)  # Op.[14]: dscores[Y.index] - 1
        _div(dout, self.n_div, dout)  # ... / batchsize
        for l in range(len(grads) - 1, 0, -1):
            hid, dhidden, d = s.hidden[l - 1], s.dhidden[l - 1], s.deriv[l - 1]
            _dot(hid, dout.T, grads[l])  # Op.[28]: [dW2; db2] = t([h, 1]) %*% dscores
            _dot(W[l], dout, dhidden)  # Op.[29]: dhidden = dscores %*% t(W2)
            self.df(hid[:-1], out=d)
            _mul(dhidden, d, dhidden)  # Op.[30]-[31]: dhidden[hidden.layer <= 0] <- 0
            dout = dhidden
        _dot(rows.Xa, dout.T, grads[0])  # Op.[32]: [dW1; db1] = t([X, 1]) %*% dhidden

    @staticmethod
    def hits(rows, s):
        """How many rows the last forward pass classifies right (first maximum wins)."""
        s.probs.argmax(axis=0, out=s.pred)
        np.equal(s.pred, rows.y, out=s.hit)
        return int(np.count_nonzero(s.hit))

    def _group_pass(self, group, want_hits):
        tiles, scratch, gsum, gtile, gviews = group
        total, n_hit = 0.0, 0
        gsum.fill(0.0)
        for rows in tiles:
            s = scratch[rows.n]
            total += self.forward(rows, s)
            if want_hits:
                n_hit += self.hits(rows, s)
            self.backward(rows, s, gviews)
            _add(gsum, gtile, gsum)
        return total, n_hit

    def train_pass(self, want_hits=False):
        """Forward and backward over the batch: (sum log probs[Y.index], hits); self.grad."""
        if self.groups is None:
            rows, s = self.tiles[0], self.scratch
            total = self.forward(rows, s)
            n_hit = self.hits(rows, s) if want_hits else 0
            self.backward(rows, s, self.grads)
            return total, n_hit
        if (os.cpu_count() or 1) > 1:
            parts = list(_pool().map(self._group_pass, self.groups, [want_hits] * _GROUPS))
        else:
            parts = [self._group_pass(g, want_hits) for g in self.groups]
        _add(self.groups[0][2], self.groups[1][2], self.grad)
        return parts[0][0] + parts[1][0], parts[0][1] + parts[1][1]

    def draw_batch(self, rng, kind):
        """Mini-batch: ``sample.int(N, B)`` from the run's generator; rows in drawn order."""
        idx = rng.sample(self.N, self.batch, kind) - 1
        rows = self.tiles[0]
        np.take(self.XT, idx, axis=1, out=rows.Xa[:-1])
        rows.set_labels(self.y_train[idx])

    def reg_loss(self):
        """Op.[9]: 0.5 * sum(reg * W * W); leaves reg * W in self.work for Op.[33]."""
        _mul(self.theta, self.regvec, self.work)
        return 0.5 * float(_dot(self.work, self.theta))

    def update(self):
        """Op.[33]-[34], with self.work = reg * W from reg_loss()."""
        work = self.work
        _add(self.grad, work, self.grad)  # Op.[33]: dW <- dW + reg * W
        _mul(self.grad, self.lr, work)
        _sub(self.theta, work, self.theta)  # Op.[34]: W <- W - lr * dW

    def evaluate_test(self):
        """(test data loss, test accuracy) with the current params; NaN without a test set."""
        n = len(self.y_test)
        if not n:
            return math.nan, math.nan
        if self._test is None:
            tiles = self._cut(self.X_test, self.y_test)
            self._test = (tiles, {r.n: Scratch(self.sizes, r.n) for r in tiles})
        tiles, scratch = self._test
        total, n_hit = 0.0, 0
        with np.errstate(all="ignore"):
            for rows in tiles:
                total += self.forward(rows, scratch[rows.n])
                n_hit += self.hits(rows, scratch[rows.n])
        return -total / n, n_hit / n

    # -- the loop ------------------------------------------------------------------------------
    def run(self, n, it, loss, maxit, abstol, display, record, rng=None, kind="rounding"):
        """R's loop ``while (i < maxit && loss > abstol)`` for at most n iterations.

        ``record(i, loss, data_loss, reg_loss, train_acc)`` is called at display steps.
        Returns (iterations completed, i, loss, failure) where failure is None or
        ("loss", i, value) for a non-finite loss at iteration i (that iteration not applied).
        """
        with np.errstate(all="ignore"), single_threaded_blas(self.limit_blas):
            if self.groups is None and self.batch is None and self.fast:
                return run_one_block(self, n, it, loss, maxit, abstol, display, record)
            return self._run_general(n, it, loss, maxit, abstol, display, record, rng, kind)

    def _run_general(self, n, it, loss, maxit, abstol, display, record, rng, kind):
        n_div, ran = float(self.n_div), 0
        while ran < n and it < maxit and loss > abstol:
            if self.batch is not None:
                self.draw_batch(rng, kind)
            want = (it + 1) % display == 0
            total, n_hit = self.train_pass(want)
            data_loss = -total / n_div  # Op.[8]
            reg = self.reg_loss()
            new_loss = data_loss + reg  # Op.[10]
            if not _isfinite(new_loss):
                return ran, it, loss, ("loss", it + 1, new_loss)
            if want:
                record(it + 1, new_loss, data_loss, reg, n_hit / n_div)
            self.update()
            it, ran, loss = it + 1, ran + 1, new_loss
        return ran, it, loss, None
