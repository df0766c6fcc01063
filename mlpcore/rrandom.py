"""R's random number generator, bit for bit: Mersenne-Twister, Inversion, both sample kinds.

`RRandom` reproduces what R (>= 3.6, and R < 3.6 with ``kind="rounding"``) gives after
``set.seed(seed)`` for ``runif``, ``rnorm`` and ``sample`` without replacement. The state is
R's ``.Random.seed`` without its leading kind code: ``[mti, mt[0], ..., mt[623]]`` as plain
signed 32-bit ints, so it can be saved as JSON and compared with R directly.
"""

from __future__ import annotations

import math

import numpy as np

from .qnorm import qnorm

__all__ = ["RRandom", "qnorm", "SAMPLE_KINDS"]

SAMPLE_KINDS = ("rounding", "rejection")
_N, _M = 624, 397
_UPPER, _LOWER, _MATRIX_A = np.uint32(0x80000000), np.uint32(0x7FFFFFFF), np.uint32(0x9908B0DF)
_2_32 = 2.3283064365386963e-10  # 2^-32: R's MT_genrand scaling
_I2_32M1 = 2.328306437080797e-10  # 1 / (2^32 - 1): R's fixup() keeps draws inside (0, 1)
_BIG = 134217728.0  # 2^27: rnorm's Inversion adds a second uniform for precision
_RNG_KIND_CODE = 403  # .Random.seed[1] %% 10000: Mersenne-Twister (3) + Inversion (4 * 100)


def _twist(mt: np.ndarray) -> None:
    """Regenerate the 624-word block in place (MT19937's recurrence, in three vector chunks)."""
    for lo, hi, src in ((0, 227, 397), (227, 454, 0), (454, 623, 227)):
        y = (mt[lo:hi] & _UPPER) | (mt[lo + 1:hi + 1] & _LOWER)
        mt[lo:hi] = mt[src:src + hi - lo] ^ (y >> np.uint32(1)) ^ ((y & np.uint32(1)) * _MATRIX_A)
    y = (mt[623] & _UPPER) | (mt[0] & _LOWER)
    mt[623] = mt[396] ^ (y >> np.uint32(1)) ^ ((y & np.uint32(1)) * _MATRIX_A)


def _uniforms(mt: np.ndarray) -> list[float]:
    """The block's tempered outputs as R's unif_rand() values, in (0, 1)."""
    y = mt.copy()
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    y ^= y >> np.uint32(18)
    u = y * _2_32
    u[u <= 0.0] = 0.5 * _I2_32M1
    return u.tolist()


class RRandom:
    """R's default generator. ``RRandom(1)`` is ``set.seed(1)``; draws continue one stream."""

    def __init__(self, seed: int | None = None) -> None:
        self._mt = np.zeros(_N, dtype=np.uint32)
        self._mti = _N
        self._u: list[float] | None = None
        self.set_seed(1 if seed is None else seed)

    # -- state -------------------------------------------------------------------------------
    def set_seed(self, seed: int) -> None:
        """``set.seed(seed)``: 50 scrambling rounds of s = 69069 s + 1, then fill the words."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be a whole number, got {seed!r}")
        s = int(seed) & 0xFFFFFFFF
        for _ in range(50):
            s = (69069 * s + 1) & 0xFFFFFFFF
        words = []
        for _ in range(_N + 1):  # the first word is R's position slot, then reset to 624
            s = (69069 * s + 1) & 0xFFFFFFFF
            words.append(s)
        self._mt[:] = words[1:]
        self._mti = _N
        self._u = None

    def get_state(self) -> list[int]:
        """``.Random.seed[-1]``: [mti, mt[0..623]] as signed 32-bit plain ints."""
        return [self._mti] + self._mt.view(np.int32).tolist()

    def set_state(self, state) -> None:
        """Restore from get_state() (625 ints) or a full R ``.Random.seed`` (626 ints)."""
        try:
            values = [int(v) for v in state]
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError("generator state must be a list of whole numbers") from exc
        if len(values) == _N + 2:
            if values[0] % 10000 != _RNG_KIND_CODE:
                raise ValueError("only Mersenne-Twister with Inversion states are supported")
            values = values[1:]
        if len(values) != _N + 1:
            raise ValueError(f"generator state must have {_N + 1} numbers, got {len(values)}")
        mti, words = values[0], values[1:]
        if not 0 <= mti <= _N:
            raise ValueError(f"generator position must be from 0 to {_N}, got {mti}")
        if any(w < -(2**31) or w >= 2**32 for w in words) or not any(words):
            raise ValueError("generator words must be 32-bit numbers, not all zero")
        self._mt[:] = np.array([w & 0xFFFFFFFF for w in words], dtype=np.uint64)
        self._mti = mti
        self._u = None

    @classmethod
    def from_words(cls, mt, mti: int) -> RRandom:
        """A generator at state (mti, mt): mt is 624 32-bit words (any integer dtype)."""
        mt = np.asarray(mt)
        if mt.shape != (_N,) or not np.issubdtype(mt.dtype, np.integer):
            raise ValueError(f"generator state must be {_N} whole numbers")
        if isinstance(mti, bool) or not isinstance(mti, (int, np.integer)) or not 0 <= mti <= _N:
            raise ValueError(f"generator position must be from 0 to {_N}, got {mti!r}")
        if not mt.any():
            raise ValueError("generator words must not be all zero")
        self = cls.__new__(cls)
        self._mt, self._mti, self._u = mt.astype(np.uint32), int(mti), None
        return self

    def copy(self) -> RRandom:
        other = RRandom.__new__(RRandom)
        other._mt, other._mti, other._u = self._mt.copy(), self._mti, self._u
        return other

    # -- draws -------------------------------------------------------------------------------
    def unif_rand(self) -> float:
        """One draw of R's unif_rand()."""
        if self._mti >= _N:
            _twist(self._mt)
            self._mti = 0
            self._u = None
        if self._u is None:
            self._u = _uniforms(self._mt)
        u = self._u[self._mti]
        self._mti += 1
        return u

    def runif(self, n: int) -> np.ndarray:
        """``runif(n)``: (n,) float64 in (0, 1)."""
        n = _count(n, "n")
        out = np.empty(n)
        done = 0
        while done < n:
            if self._mti >= _N:
                _twist(self._mt)
                self._mti = 0
                self._u = None
            if self._u is None:
                self._u = _uniforms(self._mt)
            take = min(n - done, _N - self._mti)
            out[done:done + take] = self._u[self._mti:self._mti + take]
            self._mti += take
            done += take
        return out

    def norm_rand(self) -> float:
        """One draw of R's norm_rand() with normal.kind = "Inversion"."""
        u = self.unif_rand()
        u = int(_BIG * u) + self.unif_rand()
        return qnorm(u / _BIG)

    def rnorm(self, n: int) -> np.ndarray:
        """``rnorm(n)``: (n,) float64."""
        n = _count(n, "n")
        return np.array([self.norm_rand() for _ in range(n)], dtype=np.float64)

    def unif_index(self, dn: float, kind: str = "rounding") -> int:
        """R_unif_index(dn): a whole number in [0, dn)."""
        if kind == "rounding":
            return int(math.floor(dn * self.unif_rand()))
        if dn <= 0:
            return 0
        bits = int(math.ceil(math.log2(dn)))
        while True:  # rejection: draw `bits` bits, 16 at a time, until below dn
            v = 0
            for _ in range(0, bits + 1, 16):
                v = 65536 * v + int(math.floor(self.unif_rand() * 65536))
            dv = v & ((1 << bits) - 1)
            if dv < dn:
                return dv

    def sample(self, n: int, size: int, kind: str = "rounding") -> np.ndarray:
        """``sample.int(n, size)`` without replacement: (size,) int64, 1-based like R.

        ``kind`` is R's sample.kind: "rounding" (R < 3.6, the document) or "rejection".
        """
        n, size = _count(n, "n"), _count(size, "size")
        if kind not in SAMPLE_KINDS:
            raise ValueError(f"sample kind must be one of {', '.join(SAMPLE_KINDS)}, got {kind!r}")
        if size > n:
            raise ValueError(f"cannot take a sample of {size} from {n} without replacement")
        if n >= 2**31:
            raise ValueError("n must be below 2^31 as in R")
        # partial Fisher-Yates over 0..n-1 (a dict holds only the swapped slots)
        x: dict[int, int] = {}
        out = np.empty(size, dtype=np.int64)
        if kind == "rounding":
            u = self.runif(size)
            js = np.floor((n - np.arange(size, dtype=np.float64)) * u).astype(np.int64).tolist()
        for i in range(size):
            j = js[i] if kind == "rounding" else self.unif_index(float(n - i), kind)
            last = n - i - 1
            out[i] = x.get(j, j) + 1
            x[j] = x.get(last, last)
        return out


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)
