"""Covariance matrices of OLS estimates: classical, HC0–HC3, Newey–West (HAC), clustered.

Each is a sandwich computed in the orthonormal coordinates of the QR factorisation
(Q = (X/s)R⁻¹, so (XᵀX)⁻¹Xᵀ = T Qᵀ with T = diag(1/s)R⁻¹) and never forms XᵀX. Conventions are
statsmodels' (and Stata's), so numbers agree with `OLS(...).fit(cov_type=...)`:

- HC0 = T Qᵀdiag(e²)Q Tᵀ; HC1 = HC0·n/(n-k); HC2 weights e²/(1-h); HC3 weights e²/(1-h)².
- HAC: Bartlett kernel w_j = 1 - j/(L+1), no small-sample factor (statsmodels' default). The lag
  L is the user's, else Newey and West's (1994) rule L = floor(4·(T/100)^(2/9)). Rows are taken
  in the sheet's order.
- cluster: Σ_g (Σ_{t∈g} Q_t e_t)(…)ᵀ with the factor G/(G-1)·(n-1)/(n-k) (CR1); inference uses
  G - 1 degrees of freedom.
"""

from __future__ import annotations

import math

import numpy as np

from errors import BadInput, Unprocessable

COV_TYPES = ("classical", "HC0", "HC1", "HC2", "HC3", "HAC", "cluster")


def newey_west_lags(n: int) -> int:
    """Newey and West's (1994) rule of thumb for the Bartlett kernel's bandwidth."""
    return int(math.floor(4 * (n / 100) ** (2 / 9)))


def _sandwich(T: np.ndarray, meat_q: np.ndarray) -> np.ndarray:
    return T @ meat_q @ T.T


def hc(T: np.ndarray, Q: np.ndarray, resid: np.ndarray, h: np.ndarray, kind: str
       ) -> tuple[np.ndarray, int]:
    """HC0-HC3 covariance and the count of leverage-1 points (HC2/HC3 undefined there)."""
    n, k = Q.shape
    e2 = resid * resid
    at_one = int((h >= 1 - 1e-10).sum()) if kind in ("HC2", "HC3") else 0
    if at_one:
        return np.full((k, k), np.nan), at_one
    weights = {"HC0": e2, "HC1": e2 * n / (n - k), "HC2": e2 / (1.0 - h),
               "HC3": e2 / (1.0 - h) ** 2}[kind]
    return _sandwich(T, (Q * weights[:, None]).T @ Q), 0


def hac(T: np.ndarray, Q: np.ndarray, resid: np.ndarray, lags: int) -> np.ndarray:
    """Newey-West with Bartlett weights over `lags` lags (rows in order).

    Σ_j (1 - j/(L+1))(Γ_j + Γ_jᵀ) equals (1/(L+1)) Σ_m V_m V_mᵀ, where V_m sums u_t over the
    window [m, m+L] (clipped to the data, m = -L..n-1): a pair of rows |t-s| ≤ L apart lies in
    exactly L+1-|t-s| windows. With prefix sums that is O(n·k²) whatever L, instead of
    O(n·k²·L); Σu = Qᵀe = 0 keeps the prefix sums small, so little is lost to cancellation."""
    u = Q * resid[:, None]
    if lags == 0:
        return _sandwich(T, u.T @ u)
    n = len(u)
    cum = np.cumsum(u, axis=0, out=u)  # cum[i] = u_0 + … + u_i, in place
    inner = cum[lags:].copy()  # windows inside the data: cum[m+L] - cum[m-1]
    inner[1:] -= cum[:n - lags - 1]
    left = cum[:lags]  # windows cut by the first row
    right = cum[n - 1] - cum[n - lags - 1:n - 1]  # windows cut by the last row
    meat = inner.T @ inner + left.T @ left + right.T @ right
    return _sandwich(T, meat / (lags + 1))


def clustered(T: np.ndarray, Q: np.ndarray, resid: np.ndarray, groups: np.ndarray
              ) -> tuple[np.ndarray, int]:
    """CR1 cluster-robust covariance and the number of clusters G."""
    n, k = Q.shape
    codes, inverse = np.unique(groups, return_inverse=True)
    g = len(codes)
    if g < 2:
        raise Unprocessable("Clustered standard errors need at least 2 clusters; the cluster "
                            f"column has {g} value in the rows used.")
    u = Q * resid[:, None]
    sums = np.zeros((g, k))
    np.add.at(sums, inverse, u)
    factor = g / (g - 1) * (n - 1) / (n - k)
    return _sandwich(T, factor * (sums.T @ sums)), g


def check_options(cov_type: str, hac_lags: int | None, cluster: str | None, n: int) -> None:
    """A 400 for option combinations that make no sense."""
    if cov_type not in COV_TYPES:
        raise BadInput(f"cov_type must be one of {', '.join(COV_TYPES)}, not {cov_type!r}.")
    if hac_lags is not None and cov_type != "HAC":
        raise BadInput("hac_lags applies only to cov_type HAC (Newey-West).")
    if cluster is not None and cov_type != "cluster":
        raise BadInput("cluster applies only to cov_type cluster.")
    if cov_type == "cluster" and cluster is None:
        raise BadInput("cov_type cluster needs the column that defines the clusters "
                       "(parameter 'cluster').")
    if hac_lags is not None and not 0 <= hac_lags < n:
        raise BadInput(f"hac_lags must be from 0 to {n - 1} (the rows used less one), not "
                       f"{hac_lags}.")
