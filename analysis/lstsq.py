"""Least squares that keeps its digits, or says it cannot.

Never the normal equations, never a pseudo-inverse. The design X is scaled column by column by
powers of two (exact in floating point) so that every column has a norm near 1, and [X/s, y] is
factorised by Householder QR (LAPACK geqrf through numpy): R solves the scaled problem and the
last column of the factor carries Qᵀy. The solution is then refined: the residual y - Xb is
computed in extended precision (`np.longdouble`, the x87 80-bit format with a 64-bit mantissa on
x86-64: u ≈ 5.4e-20) and the correction solves RᵀR d = (X/s)ᵀr with the same R (corrected
semi-normal equations). The refinement converges while κ²u < 1; its last correction measures the
error that is left.

Small but very ill-conditioned problems (κ·u·k > 1e-9 and n·k² ≤ EXTENDED_LIMIT, e.g. NIST's
Filip, a degree-10 polynomial) are factorised again in extended precision by our own Householder
loop, with one refinement step in extended precision as the error estimate.

The accuracy estimate is max(k·u·κ, |last correction| / |b|) in the scaled coordinates: when it
promises fewer than MIN_DIGITS correct significant digits the fit is refused with a 422 naming
the columns involved (those with weight in the singular vector of the smallest singular value)
and κ. A design whose columns are linearly dependent (κ beyond 1/(k·ε)) is refused as collinear,
naming the first column that depends on the ones before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular
from scipy.linalg.lapack import dgeqrf

from errors import Unprocessable

U = np.finfo(np.float64).eps / 2
U_EXTENDED = float(np.finfo(np.longdouble).eps) / 2
MIN_DIGITS = 7
MAX_REFINE = 8
EXTENDED_LIMIT = 2_000_000  # n·k² for the extended-precision factorisation (~0.1 s)


@dataclass(frozen=True)
class LeastSquares:
    """The solution of min |y - Xb| and what inference needs from it.

    `r_inv` is R⁻¹ of the *scaled* design X/s (so (XᵀX)⁻¹ = diag(1/s) R⁻¹R⁻ᵀ diag(1/s)),
    `ssr` the residual sum of squares summed in extended precision, `condition_number` κ₂ of
    X/s, `digits` the estimated correct significant digits of `beta`, `exact` True when the
    residuals vanish to rounding (an exact fit).
    """

    beta: np.ndarray
    resid: np.ndarray
    ssr: float
    r_inv: np.ndarray
    scale: np.ndarray
    condition_number: float
    digits: float
    exact: bool
    extended: bool

    def xtx_inv(self) -> np.ndarray:
        """(XᵀX)⁻¹ from R (never by inverting XᵀX)."""
        s = self.r_inv / self.scale[:, None]
        return s @ s.T

    def q(self, X: np.ndarray) -> np.ndarray:
        """Q = X·diag(1/s)·R⁻¹ (n×k, orthonormal columns), computed as (TᵀXᵀ)ᵀ: numpy's
        n×k @ k×k product is several times slower than the transposed one."""
        return ((self.r_inv / self.scale[:, None]).T @ X.T).T


def _scales(X: np.ndarray) -> np.ndarray:
    """Powers of two near each column's norm (|x|∞ ≤ 1e100 is checked upstream: no overflow)."""
    norms = np.sqrt(np.einsum("ij,ij->j", X, X))
    exponent = np.frexp(np.where(norms > 0, norms, 1.0))[1]
    return np.ldexp(1.0, exponent)


def _householder_extended(A: np.ndarray) -> np.ndarray:
    """The R factor of A (n×m, m small) by Householder reflections in np.longdouble."""
    A = np.array(A, dtype=np.longdouble)
    m = A.shape[1]
    for j in range(m):
        x = A[j:, j]
        norm = np.sqrt(np.sum(x * x))
        if norm == 0:
            continue
        v = x.copy()
        v[0] += norm if x[0] >= 0 else -norm
        v2 = np.sum(v * v)
        A[j:, j:] -= np.outer(v, (v @ A[j:, j:]) * (2 / v2))
    return np.triu(A[:m, :m])


def _back_substitute(R: np.ndarray, z: np.ndarray) -> np.ndarray:
    out = np.zeros(len(z), dtype=R.dtype)
    for i in range(len(z) - 1, -1, -1):
        out[i] = (z[i] - R[i, i + 1:] @ out[i + 1:]) / R[i, i]
    return out


def _collinear(norms: np.ndarray, names: tuple[str, ...], R: np.ndarray, cond: float) -> None:
    """Without pivoting R[j, j] is the distance of column j from the span of those before it
    (`norms` are the scaled columns' norms)."""
    k = len(names)
    for j in range(k):
        if abs(R[j, j]) <= 1e-13 * max(norms[j], np.finfo(float).tiny):
            before = ", ".join(names[:j]) or "nothing"
            hint = (" Powers of one column are better written poly(x, k)."
                    if "^" in names[j] else "")
            raise Unprocessable(f"Perfect collinearity: term '{names[j]}' is an exact linear "
                                f"combination of the terms before it ({before}); remove it or "
                                f"one of those (condition number {cond:.3g}).{hint}")


def _ill_conditioned(names: tuple[str, ...], R: np.ndarray, cond: float, digits: float) -> None:
    _, _, vt = np.linalg.svd(R.astype(np.float64))
    weight = np.abs(vt[-1])
    involved = [names[j] for j in np.argsort(-weight) if weight[j] >= 0.05 * weight.max()]
    raise Unprocessable(
        f"The design is too ill-conditioned for trustworthy estimates: condition number "
        f"{cond:.3g} (after scaling the columns), about {max(digits, 0):.0f} correct digits "
        f"expected where {MIN_DIGITS} are needed. Columns involved: {', '.join(involved)}. "
        "Centre or rescale them (center(x), scale(x)), use poly(x, k) for polynomials, or drop "
        "one of them.")


def _refine(X: np.ndarray, y: np.ndarray, R: np.ndarray, scale: np.ndarray,
            beta_s: np.ndarray, cond: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Iterative refinement with residuals and (X/s)ᵀr in extended precision; returns b, r
    (longdouble) and the relative size of the last correction (scaled coordinates, 0 when no
    step was needed). The residual is computed once in full and then updated by each (small)
    step, which costs one float64 product instead of another extended-precision one."""
    Xl = X.astype(np.longdouble)
    yl = y.astype(np.longdouble)
    scale_l = scale.astype(np.longdouble)
    beta = (beta_s / scale).astype(np.longdouble)
    resid = yl - Xl @ beta
    last = np.inf
    for _ in range(MAX_REFINE):
        if cond * cond * U >= 0.5:  # the correction would not contract: keep what QR gave
            break
        g = ((resid @ Xl) / scale_l).astype(np.float64)
        d = solve_triangular(R, solve_triangular(R, g, trans="T"))
        current = np.abs(beta * scale_l).astype(np.float64)
        size = float(np.max(np.abs(d) / np.maximum(current, 1e-8 * current.max())))
        if size <= 4 * U:  # rounding level: nothing left to correct
            last = size
            break
        step = d / scale
        beta = beta + step.astype(np.longdouble)
        resid -= X @ step  # the step is small: its float64 product keeps r's extra digits
        if size >= 0.5 * last:
            last = min(last, size)
            break
        last = size
    return beta.astype(np.float64), resid, 0.0 if last == np.inf else float(last)


def solve(X: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> LeastSquares:
    """Solve OLS of y on X (n > k) or raise Unprocessable (collinear / too ill-conditioned)."""
    n, k = X.shape
    scale = _scales(X)
    A = np.empty((n, k + 1), order="F")  # [X/s, y], column-major for LAPACK (no copy)
    A[:, :k] = X
    A[:, :k] /= scale
    A[:, k] = y
    norms = np.sqrt(np.einsum("ij,ij->j", A[:, :k], A[:, :k]))
    factored, _, _, info = dgeqrf(A, overwrite_a=True)  # Householder QR, R in the upper part
    if info != 0:
        raise Unprocessable(f"The QR factorisation failed (LAPACK info {info}).")
    full = np.triu(factored[:k + 1, :k + 1])
    del A, factored
    R, z = full[:k, :k], full[:k, k]
    sv = np.linalg.svd(R, compute_uv=False)
    cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else np.inf
    _collinear(norms, names, R, cond)
    if not np.isfinite(cond) or cond * k * np.finfo(float).eps >= 1:
        _collinear(norms, names, np.zeros((k, k)), cond)  # rank deficient beyond rounding
    extended = cond * U * k > 1e-9 and n * k * k <= EXTENDED_LIMIT
    if extended:
        As = X / scale
        full_l = _householder_extended(np.column_stack([As, y]))
        R_l = full_l[:k, :k]
        beta_s = _back_substitute(R_l, full_l[:k, k])
        beta = beta_s / scale.astype(np.longdouble)
        resid = y.astype(np.longdouble) - X.astype(np.longdouble) @ beta
        g = As.astype(np.longdouble).T @ resid
        d = _back_substitute(R_l, _back_substitute(R_l.T[::-1, ::-1], g[::-1])[::-1])
        correction = float(np.linalg.norm(d.astype(np.float64)) / np.linalg.norm(
            beta_s.astype(np.float64)))
        error = max(k * U_EXTENDED * cond, correction)
        beta = beta.astype(np.float64)
        eye = np.eye(k, dtype=np.longdouble)
        r_inv = np.column_stack([_back_substitute(R_l, eye[:, j]) for j in range(k)]
                                ).astype(np.float64)
    else:
        beta_s = solve_triangular(R, z)
        beta, resid, correction = _refine(X, y, R, scale, beta_s, cond)
        error = max(k * U * cond, correction)
        if cond * cond * U >= 0.5:
            error = max(error, U * cond * cond * float(np.linalg.norm(resid)) / max(
                float(np.linalg.norm(beta * scale)) * np.sqrt(k), np.finfo(float).tiny))
        r_inv = solve_triangular(R, np.eye(k))
    digits = float(-np.log10(max(error, 1e-17)))
    if digits < MIN_DIGITS:
        _ill_conditioned(names, R, cond, digits)
    ssr = float(np.sum(resid * resid))
    y_size = float(np.linalg.norm(y)) + float(np.linalg.norm(np.abs(X) @ np.abs(beta)))
    exact = np.sqrt(ssr) <= 16 * n * U * y_size
    return LeastSquares(beta=beta, resid=resid.astype(np.float64), ssr=0.0 if exact else ssr,
                        r_inv=r_inv, scale=scale, condition_number=cond, digits=digits,
                        exact=bool(exact), extended=extended)
