"""Text as R prints it: ``cat()``'s numbers (formatReal, 7 significant digits) and the
print of a two-way ``table()``."""

from __future__ import annotations

import math

__all__ = ["r_num", "r_cat", "r_table"]


def r_num(x: float, digits: int = 7) -> str:
    """One number as R's cat()/print() formats it: the fewest significant digits (at most
    ``digits``) that show it to ``digits`` digits, fixed notation unless scientific is
    narrower (R's formatReal with scipen = 0)."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    if x == 0.0:
        return "0"
    neg = 1 if x < 0 else 0
    mantissa, exp = f"{abs(x):.{digits - 1}e}".split("e")
    kpower = int(exp)
    nsig = len(mantissa.replace(".", "").rstrip("0")) or 1
    rgt = max(0, nsig - kpower - 1)
    width_fixed = neg + max(1, kpower + 1) + rgt + (rgt > 0)
    d = nsig - 1
    width_sci = neg + (d > 0) + d + 4 + (2 if kpower >= 100 or kpower <= -100 else 1)
    if width_fixed <= width_sci:
        return f"{x:.{rgt}f}"
    mant, e = f"{x:.{d}e}".split("e")
    return f"{mant}e{e[0]}{abs(int(e)):02d}"


def r_cat(*values) -> str:
    """``cat(...)`` of numbers and strings, separated by single spaces (no trailing space)."""
    return " ".join(v if isinstance(v, str) else r_num(v) for v in values)


def r_table(counts, row_labels, col_labels, row_var: str = "", col_var: str = "") -> list[str]:
    """Lines of R's print of a 2-way table with dimnames names (row_var, col_var).

    As R: all counts share one width (print.table formats them together), columns are
    right-aligned with one space between, row labels are left-aligned and indented by two
    spaces when the dimnames are named.
    """
    cells = [[str(int(v)) for v in row] for row in counts]
    width = max([len(c) for row in cells for c in row] or [1])
    col_w = [max(width, len(c)) for c in col_labels]
    row_w = max([len(r) for r in row_labels] or [0])
    offset = 2 if len(row_var) < row_w + 2 else len(row_var) - row_w
    label_w = row_w + offset
    header = "".join(" " + c.rjust(w) for c, w in zip(col_labels, col_w, strict=True))
    lines = [" " * label_w + col_var, row_var.ljust(label_w) + header]
    for label, row in zip(row_labels, cells, strict=True):
        lines.append(" " * offset + label.ljust(row_w)
                     + "".join(" " + c.rjust(w) for c, w in zip(row, col_w, strict=True)))
    return lines
