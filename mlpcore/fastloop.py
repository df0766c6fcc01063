"""The document's loop on one full-batch block, every step inlined: the hot path.

Same arithmetic as Engine.forward / backward / reg_loss / update (tests check the two agree
to the bit on the parameters), written out so that an iteration is ~24 numpy calls with
no allocation and no attribute look-ups. One addition: the data and reg losses come out of
a single dot product, [theta | -2/N] . [reg * W | log(probs[Y.index])] = 2 * loss, for
which the engine keeps theta and log(probs[Y.index]) inside longer vectors.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["run_one_block"]


def run_one_block(self, n, it, loss, maxit, abstol, display, record):
    """Engine._run_general for one full-batch block, with forward(), backward(),
    reg_loss() and update() inlined (``self`` is the Engine)."""
    rows, s = self.tiles[0], self.scratch
    f, df, relu, zero = self.f, self.df, self.relu, np.zeros(())
    Xa, onehot, yidx = rows.Xa, rows.onehot, rows.yidx
    # per hidden layer: (t([W; b]), input, hidden_layer) forward, and for the backward
    # pass, from the top: (t([h, 1]), hidden_layer, dhidden, f'(h), W above, [dW; db])
    ins = [rows.Xa] + s.hidden
    fwd = [(self.WaT[l], ins[l], h[:-1]) for l, h in enumerate(s.hidden)]
    back = [(s.hidden[l], s.hidden[l][:-1], s.dhidden[l], s.deriv[l], self.W[l + 1],
             self.grads[l]) for l in range(len(s.hidden))][::-1]
    score, probs, dscores, rowmax, rowsum = s.score, s.probs, s.dscores, s.rowmax, s.rowsum
    logp, ones = s.logp, s.ones
    score_rows, ones_kk, W_last, g_last = list(score), self.ones_kk, self.WaT[-1], \
        self.grads[-1]
    top = s.hidden[-1]
    theta, grad, work, regvec, lr = self.theta, self.grad, self.work, self.regvec, self.lr
    theta_ext, work_ext = self._theta_ext, self._work_ext
    n_div, nf = self.n_div, float(self.n_div)
    dot, sub, div, mul, add, exp, log = np.dot, np.subtract, np.divide, np.multiply, np.add, \
        np.exp, np.log
    maximum, max_reduce, sign, isfinite = np.maximum, np.maximum.reduce, np.sign, math.isfinite
    pairwise_max = len(score_rows) <= 3  # two maximum() calls beat a reduce for K <= 3
    relu_sign = relu and max(h.size for _, _, h in fwd) <= 4096  # as relu_grad chooses
    ran = 0
    while ran < n and it < maxit and loss > abstol:
        # forward: Op.[1]-[3]
        for Wt, a, h in fwd:
            dot(Wt, a, h)  # Op.[1]: X %*% W1 + b1, the bias via the ones row
            if relu:
                maximum(h, zero, out=h)  # Op.[2]: hidden_layer = pmax(., 0)
            else:
                f(h, out=h)
        dot(W_last, top, score)  # Op.[3]: score
        # softmax and loss: Op.[4]-[10]
        if pairwise_max:
            maximum(score_rows[0], score_rows[-1], out=rowmax)
            maximum(rowmax, score_rows[1], out=rowmax)
        else:
            max_reduce(score, axis=0, out=rowmax)
        sub(score, rowmax, score)  # minus the row maximum: same probs, no overflow
        exp(score, probs)  # Op.[4]: score.exp
        dot(ones_kk, probs, rowsum)  # rowSums(score.exp)
        div(probs, rowsum, probs)  # Op.[5]: probs
        probs.take(yidx, out=logp)  # probs[Y.index]
        log(logp, logp)  # Op.[6]-[7]: -correct_logprobs
        mul(theta, regvec, work)  # reg * W (0 on biases)
        new_loss = 0.5 * float(dot(work_ext, theta_ext))  # Op.[8]-[10]: data + reg loss
        if not isfinite(new_loss):
            return ran, it, loss, ("loss", it + 1, new_loss)
        if (it + 1) % display == 0:
            reg_loss = 0.5 * float(dot(work, theta))
            record(it + 1, new_loss, -float(dot(logp, ones)) / nf, reg_loss,
                   self.hits(rows, s) / nf)
        # backward: Op.[14]-[32]
        sub(probs, onehot, dscores)  # Op.[14]: dscores[Y.index] - 1
        div(dscores, n_div, dscores)  # ... / batchsize
        dout, g = dscores, g_last
        for hid, h, dhidden, d, W_above, g_below in back:
            dot(hid, dout.T, g)  # Op.[28]: [dW2; db2] = t([h, 1]) %*% dscores
            dot(W_above, dout, dhidden)  # Op.[29]: dhidden = dscores %*% t(W2)
            if relu_sign:
                sign(h, d)  # Op.[30]: 1 where hidden_layer > 0 (h >= 0), else 0
            else:
                df(h, out=d)
            mul(dhidden, d, dhidden)  # Op.[31]: dhidden[hidden.layer <= 0] <- 0
            dout, g = dhidden, g_below
        dot(Xa, dout.T, g)  # Op.[32]: [dW1; db1] = t([X, 1]) %*% dhidden
        # update: Op.[33]-[34]
        add(grad, work, grad)  # Op.[33]: dW <- dW + reg * W
        mul(grad, lr, work)
        sub(theta, work, theta)  # Op.[34]: W <- W - lr * dW
        it += 1
        ran += 1
        loss = new_loss
    return ran, it, loss, None
