"""Formula expressions as small tuples, and how they are named and inspected.

Nodes: ("col", name), ("num", value), ("neg", node), ("bin", op, left, right) with op one of
+ - * / ^, and ("fn", name, argument, k) for log/exp/sqrt (k = 0) and lag/diff/pct (k periods).
They are built by `analysis.formula` and evaluated by `analysis.design`.
"""

from __future__ import annotations

SHIFT_FUNCTIONS = ("lag", "diff", "pct")
PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}


def show(node: tuple) -> str:
    """How an expression is named in the results: `I(x^2)`, `lag(GDP, 1)`, `log(Area)`."""
    kind = node[0]
    if kind == "col":
        return node[1]
    if kind == "num":
        return f"{node[1]:g}"
    if kind == "neg":
        inner = show(node[1])
        return f"-({inner})" if node[1][0] == "bin" else f"-{inner}"
    if kind == "fn":
        _, name, arg, k = node
        return f"{name}({show(arg)}, {k})" if name in SHIFT_FUNCTIONS else f"{name}({show(arg)})"
    _, op, a, b = node
    left, right = show(a), show(b)
    if a[0] == "bin" and PRECEDENCE[a[1]] < PRECEDENCE[op]:
        left = f"({left})"
    if b[0] == "bin" and (PRECEDENCE[b[1]] < PRECEDENCE[op]
                          or (PRECEDENCE[b[1]] == PRECEDENCE[op] and op in "-/^")):
        right = f"({right})"
    return f"{left}{op}{right}"


def expression_columns(node: tuple) -> list[str]:
    if node[0] == "col":
        return [node[1]]
    if node[0] == "num":
        return []
    children = node[2:4] if node[0] == "bin" else (node[1] if node[0] == "neg" else node[2],)
    out: list[str] = []
    for child in children:
        out += [c for c in expression_columns(child) if c not in out]
    return out


def shifts(node: tuple) -> bool:
    """True when the expression uses lag, diff or pct (it needs the sheet's order)."""
    if node[0] == "fn":
        return node[1] in SHIFT_FUNCTIONS or shifts(node[2])
    if node[0] == "bin":
        return shifts(node[2]) or shifts(node[3])
    return node[0] == "neg" and shifts(node[1])
