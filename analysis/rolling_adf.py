"""ADF t-statistics of every window of a series at once: the engine of SADF, GSADF and BSADF.

The ADF regression of a window y[s..e] (constant, lag k) regresses Δy_t on
[1, y_{t-1}, Δy_{t-1}, …, Δy_{t-k}] for t = s+k+1 … e, exactly as statsmodels'
`adfuller(y[s:e+1], maxlag=k, autolag=None, regression="c")` does. With R = n-1-k rows, row r
is the observation t = k+1+r, so a window starting at s uses rows s … e-k-1: the windows that
share a start share a prefix of rows. For each start we therefore accumulate the cross-products
X'X, X'y and y'y row by row (a cumulative sum, not a difference of two large prefix sums, so no
digits are lost on long or trending series), and solve all the small (k+2)×(k+2) systems of all
windows in one batched call. O(T²) windows cost O(T²·k²) arithmetic, not O(T²) regressions.

Windows are indexed by (start s, end e) with e - s + 1 ≥ `window`; results are arrays
`t[..., s, e - window + 1]`, NaN where s > e - window + 1 (no such window) or where the window's
design is singular (a flat stretch of the series).
"""

from __future__ import annotations

import numpy as np

# Bytes of cumulative sums held at once (batch × starts × rows × products × 8).
CHUNK_BYTES = 64 * 2**20


def min_window_for(lag: int) -> int:
    """The fewest observations an ADF window with `lag` lags can have and still leave three
    residual degrees of freedom."""
    return 2 * lag + 7


def _design(y: np.ndarray, lag: int) -> np.ndarray:
    """Per-row products (B, R, q): upper triangle of x xᵀ, x·d, d² for x = regressors, d = Δy_t.

    The level is centred per series first: an ADF t-statistic does not change when a constant is
    added to y (the regression has one), and centring keeps the cross-products small.
    """
    y = y - y.mean(axis=-1, keepdims=True)
    dy = np.diff(y, axis=-1)
    n = y.shape[-1]
    rows = n - 1 - lag
    cols = [np.ones(y.shape[:-1] + (rows,)), y[..., lag:lag + rows]]
    cols += [dy[..., lag - i:lag - i + rows] for i in range(1, lag + 1)]
    x = np.stack(cols, axis=-1)
    d = dy[..., lag:lag + rows]
    iu, ju = np.triu_indices(lag + 2)
    return np.concatenate([x[..., iu] * x[..., ju], x * d[..., None], (d * d)[..., None]],
                          axis=-1)


def _tstats_from_sums(sums: np.ndarray, nobs: np.ndarray, p: int) -> np.ndarray:
    """t-statistic of the lagged level from accumulated sums (N, q) of windows with `nobs` rows."""
    iu, ju = np.triu_indices(p)
    ntri = len(iu)
    a = np.empty((len(sums), p, p))
    a[:, iu, ju] = sums[:, :ntri]
    a[:, ju, iu] = sums[:, :ntri]
    b = sums[:, ntri:ntri + p]
    dd = sums[:, -1]
    rhs = np.zeros((len(sums), p, 2))
    rhs[:, :, 0] = b
    rhs[:, 1, 1] = 1.0
    ok = np.ones(len(sums), dtype=bool)
    try:
        sol = np.linalg.solve(a, rhs)
    except np.linalg.LinAlgError:  # a flat stretch makes some designs singular
        ok = np.linalg.matrix_rank(a) == p
        a[~ok] = np.eye(p)
        sol = np.linalg.solve(a, rhs)
    beta, inv11 = sol[:, :, 0], sol[:, 1, 1]
    ssr = dd - np.einsum("ij,ij->i", b, beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma2 = np.maximum(ssr, 0.0) / (nobs - p)
        t = beta[:, 1] / np.sqrt(sigma2 * inv11)
    t[~ok | ~np.isfinite(t)] = np.nan
    return t


def window_tstats(y: np.ndarray, lag: int, window: int) -> np.ndarray:
    """ADF t-statistics of every window of ≥ `window` observations.

    y: (n,) or (B, n) series (B replications at once). Returns (S, S) or (B, S, S) with
    S = n - window + 1; entry [s, j] is the window from s to e = j + window - 1 (NaN for s > j).
    """
    y = np.asarray(y, dtype="float64")
    single = y.ndim == 1
    y2 = y[None, :] if single else y
    batch, n = y2.shape
    if window < min_window_for(lag) or window > n:
        raise ValueError(f"window {window} must be from {min_window_for(lag)} to {n}")
    p = lag + 2
    q = _design(y2, lag)
    rows, nq = q.shape[1], q.shape[2]
    starts = n - window + 1
    out = np.full((batch, starts, starts), np.nan)
    per_start = batch * rows * nq * 8
    chunk = max(1, min(starts, CHUNK_BYTES // per_start))
    r = np.arange(rows)
    for s0 in range(0, starts, chunk):
        s1 = min(starts, s0 + chunk)
        s_idx = np.arange(s0, s1)
        live = (r[None, s0:] >= s_idx[:, None])[None, :, :, None]
        sums = np.cumsum(np.where(live, q[:, None, s0:], 0.0), axis=2)  # from each start on
        ss, jj = np.nonzero(s_idx[:, None] <= np.arange(starts)[None, :])
        last_row = jj + window - 1 - lag - 1  # e - k - 1
        picked = sums[:, ss, last_row - s0].reshape(-1, nq)
        nobs = np.tile(last_row - s_idx[ss] + 1, batch)
        t = _tstats_from_sums(picked, nobs, p).reshape(batch, -1)
        out[:, s_idx[ss], jj] = t
    return out[0] if single else out


def sup_statistics(tstats: np.ndarray) -> dict[str, np.ndarray]:
    """From `window_tstats`: the forward ADF sequence (start 0), SADF, BSADF sequence, GSADF.

    Works on (S, S) or (B, S, S); every value has the leading batch shape of its input.
    """
    forward = tstats[..., 0, :]
    with np.errstate(all="ignore"):
        bsadf = np.nanmax(np.where(np.isnan(tstats), -np.inf, tstats), axis=-2)
    bsadf = np.where(np.isinf(bsadf), np.nan, bsadf)
    return {"adf": forward[..., -1], "forward": forward,
            "sadf": np.nanmax(np.where(np.isnan(forward), -np.inf, forward), axis=-1),
            "bsadf": bsadf,
            "gsadf": np.nanmax(np.where(np.isnan(bsadf), -np.inf, bsadf), axis=-1)}
