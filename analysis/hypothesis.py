"""Two-sample and k-sample tests with an effect size and one plain sentence.

- Welch's t-test (unequal variances, Welch-Satterthwaite df); effect size Hedges' g (pooled-SD
  Cohen's d times the small-sample correction J = 1 - 3 / (4(n_a + n_b) - 9)); both d and g are
  reported; sign: positive when a's mean is larger.
- One-way ANOVA; effect size eta squared = SS_between / SS_total.
  The t and F statistics are computed here from their closed forms (p from scipy's t and F
  distributions): scipy's wrappers warn about "precision loss" on nearly constant groups, and a
  warning must never leak to the user.
- Pearson's chi-square test of independence *without* Yates' continuity correction, so that
  Cramér's V = sqrt(chi2 / (n (min(r, c) - 1))) matches the statistic shown.
- Mann-Whitney U (two-sided, scipy's exact/asymptotic choice); U is a's statistic and the
  rank-biserial r = 2U / (n_a n_b) - 1 is positive when a tends to be larger.
The reading is at the 5% level.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.results import available, group_column, json_safe, numeric_column, table
from errors import BadInput, Unprocessable

ALPHA = 0.05


@dataclass(frozen=True)
class TestResult:
    kind: str
    sheet: str
    test: str
    statistic: float
    p_value: float
    effect_size: dict
    reading: str
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return json_safe({"kind": self.kind, "sheet": self.sheet, "test": self.test,
                          "statistic": self.statistic, "p_value": self.p_value,
                          "effect_size": self.effect_size, "reading": self.reading,
                          **self.details})

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        rows = [{"statistic": "statistic", "value": self.statistic},
                {"statistic": "p_value", "value": self.p_value},
                {"statistic": self.effect_size["name"], "value": self.effect_size["value"]}]
        rows += [{"statistic": k, "value": v} for k, v in self.details.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)]
        out = [(self.test, table(json_safe(rows)))]
        if "groups" in self.details:
            out.append(("Groups", table(json_safe(self.details["groups"]))))
        for key in ("observed", "expected"):
            if key in self.details:
                d = self.details
                frame = pd.DataFrame(d[key], columns=d["column_levels"])
                frame.insert(0, d["a"] + " \\ " + d["b"], d["row_levels"])
                out.append((key.capitalize() + " counts", frame))
        return out


def p_text(p: float) -> str:
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.2g}"


def _reading(p: float, differs: str, same: str) -> str:
    if p < ALPHA:
        return f"At the 5% level, {differs} ({p_text(p)})."
    return f"At the 5% level, there is no evidence that {same} ({p_text(p)})."


def _two_groups(frame: pd.DataFrame, sheet: str, value: str, group: str, a, b
                ) -> tuple[np.ndarray, np.ndarray]:
    values = numeric_column(frame, sheet, value).to_numpy()
    levels = group_column(frame, sheet, group)
    a, b = str(a), str(b)
    if a == b:
        raise BadInput(f"Choose two different groups of '{group}' to compare.")
    present = levels.dropna().unique().tolist()
    out = []
    for level in (a, b):
        if level not in present:
            raise BadInput(f"Column '{group}' in sheet '{sheet}' has no group '{level}'. "
                           f"Groups: {available(sorted(present))}.")
        mask = (levels == level).fillna(False).to_numpy(dtype=bool) & np.isfinite(values)
        x = values[mask]
        if len(x) < 2:
            raise Unprocessable(f"Group '{level}' of '{group}' has {len(x)} value(s) of "
                                f"'{value}'; the test needs at least 2 per group.")
        out.append(x)
    return out[0], out[1]


def welch_ttest(frame: pd.DataFrame, sheet: str, value: str, group: str, a, b) -> TestResult:
    """Welch's two-sample t-test of mean `value` between groups a and b of `group`."""
    x, y = _two_groups(frame, sheet, value, group, a, b)
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        raise Unprocessable(f"'{value}' is constant within both groups '{a}' and '{b}'; "
                            "the t statistic is undefined.")
    n1, n2 = len(x), len(y)
    v1, v2 = x.var(ddof=1), y.var(ddof=1)
    diff = float(x.mean() - y.mean())
    se2 = v1 / n1 + v2 / n2
    t = diff / np.sqrt(se2)
    df = se2**2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    p = float(2 * stats.t.sf(abs(t), df))
    pooled = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    d = diff / pooled
    g = d * (1 - 3 / (4 * (n1 + n2) - 9))
    reading = _reading(p, f"mean {value} differs between {a} and {b}",
                       f"mean {value} differs between {a} and {b}")
    groups = [{"group": str(lv), "n": len(v), "mean": v.mean(), "std": v.std(ddof=1)}
              for lv, v in ((a, x), (b, y))]
    return TestResult(kind="ttest", sheet=sheet, test="Welch two-sample t-test",
                      statistic=float(t), p_value=p,
                      effect_size={"name": "Hedges' g", "value": float(g)}, reading=reading,
                      details=json_safe({"value": value, "group": group, "a": str(a),
                                         "b": str(b), "df": df, "mean_a": x.mean(),
                                         "mean_b": y.mean(), "n_a": n1, "n_b": n2,
                                         "difference": diff, "cohen_d": d, "hedges_g": g,
                                         "groups": groups}))


def mann_whitney(frame: pd.DataFrame, sheet: str, value: str, group: str, a, b) -> TestResult:
    """Mann-Whitney U test (two-sided) of `value` between groups a and b."""
    x, y = _two_groups(frame, sheet, value, group, a, b)
    result = stats.mannwhitneyu(x, y, alternative="two-sided")
    u = float(result.statistic)
    r = 2 * u / (len(x) * len(y)) - 1
    p = float(result.pvalue)
    reading = _reading(p, f"{value} tends to differ between {a} and {b}",
                       f"{value} tends to differ between {a} and {b}")
    groups = [{"group": str(lv), "n": len(v), "median": np.median(v)} for lv, v in
              ((a, x), (b, y))]
    return TestResult(kind="mannwhitney", sheet=sheet, test="Mann-Whitney U test",
                      statistic=u, p_value=p,
                      effect_size={"name": "rank-biserial r", "value": float(r)},
                      reading=reading,
                      details=json_safe({"value": value, "group": group, "a": str(a),
                                         "b": str(b), "n_a": len(x), "n_b": len(y),
                                         "groups": groups}))


def anova_oneway(frame: pd.DataFrame, sheet: str, value: str, group: str) -> TestResult:
    """One-way ANOVA of `value` across every group of `group` (rows with missing dropped)."""
    values = numeric_column(frame, sheet, value).to_numpy()
    levels = group_column(frame, sheet, group)
    keep = np.isfinite(values) & levels.notna().to_numpy()
    data = pd.DataFrame({"v": values[keep], "g": levels.to_numpy()[keep]})
    samples = {str(k): v.to_numpy() for k, v in data.groupby("g", sort=True)["v"]}
    if len(samples) < 2:
        raise Unprocessable(f"Column '{group}' has fewer than two groups with values of "
                            f"'{value}'; ANOVA compares at least two.")
    n, k = len(data), len(samples)
    if n <= k:
        raise Unprocessable(f"Too few rows: {n} values of '{value}' in {k} groups of "
                            f"'{group}'; ANOVA needs more values than groups.")
    grand = data["v"].mean()
    ss_between = float(sum(len(v) * (v.mean() - grand) ** 2 for v in samples.values()))
    ss_within = float(sum(((v - v.mean()) ** 2).sum() for v in samples.values()))
    if ss_within == 0:
        raise Unprocessable(f"'{value}' is constant within every group of '{group}'; the F "
                            "statistic is undefined.")
    ss_total = ss_between + ss_within
    f = (ss_between / (k - 1)) / (ss_within / (n - k))
    p = float(stats.f.sf(f, k - 1, n - k))
    reading = _reading(p, f"mean {value} differs across the groups of {group}",
                       f"mean {value} differs across the groups of {group}")
    groups = [{"group": lv, "n": len(v), "mean": v.mean(),
               "std": v.std(ddof=1) if len(v) > 1 else None} for lv, v in samples.items()]
    return TestResult(kind="anova", sheet=sheet, test="One-way ANOVA",
                      statistic=float(f), p_value=p,
                      effect_size={"name": "eta squared", "value": ss_between / ss_total},
                      reading=reading,
                      details=json_safe({"value": value, "group": group, "n": n,
                                         "df_between": k - 1, "df_within": n - k,
                                         "eta_squared": ss_between / ss_total,
                                         "ss_between": ss_between,
                                         "ss_within": ss_within, "groups": groups}))


def chi2_independence(frame: pd.DataFrame, sheet: str, a: str, b: str) -> TestResult:
    """Chi-square test that categorical columns a and b are independent (no Yates correction)."""
    if a == b:
        raise BadInput("Choose two different columns for a test of independence.")
    rows = group_column(frame, sheet, a)
    cols = group_column(frame, sheet, b)
    keep = rows.notna().to_numpy() & cols.notna().to_numpy()
    observed = pd.crosstab(rows[keep].to_numpy(), cols[keep].to_numpy())
    for name, size in ((a, observed.shape[0]), (b, observed.shape[1])):
        if size < 2:
            raise Unprocessable(f"Column '{name}' has only one category in the rows used; "
                                "a test of independence needs at least two.")
    result = stats.chi2_contingency(observed.to_numpy(), correction=False)
    n = int(observed.to_numpy().sum())
    chi2 = float(result.statistic)
    v = np.sqrt(chi2 / (n * (min(observed.shape) - 1)))
    expected = result.expected_freq
    small = float((expected < 5).mean())
    p = float(result.pvalue)
    reading = _reading(p, f"{a} and {b} are associated", f"{a} and {b} are associated")
    details = {"a": a, "b": b, "n": n, "dof": int(result.dof),
               "row_levels": [str(x) for x in observed.index],
               "column_levels": [str(x) for x in observed.columns],
               "observed": observed.to_numpy().tolist(), "expected": expected.tolist(),
               "share_expected_below_5": small}
    if small > 0.2:
        details["warning"] = (f"{small:.0%} of expected counts are below 5; the chi-square "
                              "approximation may be poor.")
    return TestResult(kind="chi2", sheet=sheet, test="Chi-square test of independence",
                      statistic=chi2, p_value=p,
                      effect_size={"name": "Cramér's V", "value": float(v)}, reading=reading,
                      details=json_safe(details))
