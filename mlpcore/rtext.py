"""R source text from Python values, safe and exact: string literals that nothing can break
out of, numbers R reads back bit for bit, vectors and data frames wrapped for reading.
"""

from __future__ import annotations

import numpy as np

__all__ = ["r_string", "comment", "r_number", "r_exact", "r_vector", "data_frame"]


def r_string(s: str) -> str:
    """An R string literal, pure ASCII: quotes, backslashes and control characters escaped,
    anything beyond ASCII as \\u{...} / \\U{...}. Nothing a name holds can end the string."""
    out = []
    for ch in str(s):
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= o < 127:
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif 0 < o < 32 or o == 127:
            out.append(f"\\x{o:02x}")
        elif o == 0 or 0xD800 <= o < 0xE000:  # R strings cannot hold NUL or lone surrogates
            out.append("?")
        elif o <= 0xFFFF:
            out.append(f"\\u{{{o:04x}}}")
        else:
            out.append(f"\\U{{{o:08x}}}")
    return '"' + "".join(out) + '"'


def comment(s: str) -> str:
    """Text safe inside an R comment: printable ASCII only."""
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in str(s))


def r_number(x: float) -> str:
    """A setting as the document writes it: Python's shortest repr (0.01, 1e-05)."""
    x = float(x)
    return ("Inf" if x > 0 else "-Inf") if np.isinf(x) else repr(x)


def r_exact(x: float) -> str:
    """A data value R reads bit for bit: integers as is, others as a C99 hex float."""
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:  # R reads up to 15 digits exactly
        return ("-" if np.signbit(x) else "") + str(abs(int(x)))
    h = x.hex()  # e.g. 0x1.4000000000000p+2 -> 0x1.4p+2
    mant, exp = h.split("p")
    return (mant.rstrip("0").rstrip(".") if "." in mant else mant) + "p" + exp


def r_vector(items: list[str], indent: str, width: int = 96) -> str:
    """base::c(a, b, ...) with the values on lines of about `width` characters."""
    lines, line = [], ""
    for item in items:
        piece = item if not line else line + ", " + item
        if line and len(indent) + len(piece) > width:
            lines.append(line + ",")
            line = item
        else:
            line = piece
    lines.append(line)
    if len(lines) == 1 and len(indent) + len(lines[0]) <= 60:
        return "base::c(" + lines[0] + ")"
    return "base::c(\n" + "".join(f"{indent}{t}\n" for t in lines)[:-1] + ")"


def data_frame(var: str, X, y, rows, features, classes, label: str) -> str:
    """``var <- data.frame(...)``: the columns of X (N, D) exactly, then the labels y (N,) as
    a factor with levels ``classes`` in their order (as.integer gives y + 1), named
    ``[*features, label]``, with row names ``rows``."""
    pad = " " * 4
    cols = [f"  V{j + 1} = {r_vector([r_exact(v) for v in X[:, j]], pad)}"
            for j in range(X.shape[1])]
    levels = r_vector([r_string(c) for c in classes], pad)
    labels = r_vector([r_string(classes[k]) for k in y], pad)
    cols.append(f"  V{X.shape[1] + 1} = base::factor({labels},\n    levels = {levels})")
    names = r_vector([r_string(f) for f in [*features, label]], pad)
    return (f"{var} <- base::data.frame(\n" + ",\n".join(cols) + ")\n"
            f"base::names({var}) <- {names}\n"
            f"base::row.names({var}) <- {r_vector([str(int(i)) for i in rows], pad)}\n")
