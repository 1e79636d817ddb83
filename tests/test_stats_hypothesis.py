"""Hypothesis tests against scipy and closed forms computed in the test."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.hypothesis import anova_oneway, chi2_independence, mann_whitney, welch_ttest
from errors import BadInput, Unprocessable
from tests.stats_fixtures import housing


def prices(frame, level):
    return frame.loc[frame["FurnishingStatus"] == level, "Price"].to_numpy(float)


def test_welch_ttest_matches_welch_satterthwaite_and_hedges_g():
    frame = housing()
    result = welch_ttest(frame, "H", "Price", "FurnishingStatus", "furnished",
                         "unfurnished").to_dict()
    x, y = prices(frame, "furnished"), prices(frame, "unfurnished")
    n1, n2, v1, v2 = len(x), len(y), x.var(ddof=1), y.var(ddof=1)
    se = np.sqrt(v1 / n1 + v2 / n2)
    t = (x.mean() - y.mean()) / se
    df = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    assert result["statistic"] == pytest.approx(t, rel=1e-10)
    assert result["df"] == pytest.approx(df, rel=1e-10)
    assert result["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-6)
    sp = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
    g = (x.mean() - y.mean()) / sp * (1 - 3 / (4 * (n1 + n2) - 9))
    assert result["effect_size"] == {"name": "Hedges' g", "value": pytest.approx(g, rel=1e-10)}
    assert result["cohen_d"] == pytest.approx((x.mean() - y.mean()) / sp, rel=1e-10)
    assert result["hedges_g"] == pytest.approx(g, rel=1e-10)
    scipy_t = stats.ttest_ind(x, y, equal_var=False)
    assert result["statistic"] == pytest.approx(scipy_t.statistic, rel=1e-10)
    assert result["p_value"] == pytest.approx(scipy_t.pvalue, rel=1e-8)
    assert (result["n_a"], result["n_b"]) == (140, 178)
    assert result["mean_a"] == pytest.approx(x.mean())
    assert result["reading"] == ("At the 5% level, mean Price differs between furnished and "
                                 "unfurnished (p < 0.0001).")


def test_ttest_reading_when_not_significant():
    frame = pd.DataFrame({"v": [1.0, 2, 3, 4, 1.5, 2.5, 3.5, 4.5],
                          "g": ["a", "a", "a", "a", "b", "b", "b", "b"]})
    result = welch_ttest(frame, "S", "v", "g", "a", "b").to_dict()
    p = stats.ttest_ind([1, 2, 3, 4], [1.5, 2.5, 3.5, 4.5], equal_var=False).pvalue
    assert result["p_value"] == pytest.approx(p)
    assert result["reading"] == (f"At the 5% level, there is no evidence that mean v differs "
                                 f"between a and b (p = {p:.2g}).")


def test_anova_matches_closed_form_and_eta_squared():
    frame = housing()
    result = anova_oneway(frame, "H", "Price", "FurnishingStatus").to_dict()
    groups = [prices(frame, lv) for lv in ("furnished", "semi-furnished", "unfurnished")]
    allv = np.concatenate(groups)
    ssb = sum(len(g) * (g.mean() - allv.mean()) ** 2 for g in groups)
    ssw = sum(((g - g.mean()) ** 2).sum() for g in groups)
    f = (ssb / 2) / (ssw / (len(allv) - 3))
    assert result["statistic"] == pytest.approx(f, rel=1e-10)
    assert result["p_value"] == pytest.approx(stats.f.sf(f, 2, len(allv) - 3), rel=1e-6)
    assert (result["df_between"], result["df_within"]) == (2, 542)
    assert result["effect_size"]["value"] == pytest.approx(ssb / (ssb + ssw), rel=1e-10)
    assert result["eta_squared"] == result["effect_size"]["value"]
    assert result["statistic"] == pytest.approx(stats.f_oneway(*groups).statistic, rel=1e-10)


def test_chi2_expected_counts_by_hand_and_cramers_v():
    frame = housing()
    result = chi2_independence(frame, "H", "FurnishingStatus", "Mainroad").to_dict()
    rows = sorted(frame["FurnishingStatus"].unique())
    cols = sorted(frame["Mainroad"].unique())
    observed = np.array([[((frame["FurnishingStatus"] == r) & (frame["Mainroad"] == c)).sum()
                          for c in cols] for r in rows], dtype=float)
    n = observed.sum()
    expected = np.outer(observed.sum(1), observed.sum(0)) / n
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert result["row_levels"] == rows and result["column_levels"] == cols
    assert result["observed"] == observed.tolist()
    assert np.allclose(result["expected"], expected, rtol=1e-12)
    assert result["statistic"] == pytest.approx(chi2, rel=1e-10)
    assert result["dof"] == 2
    assert result["p_value"] == pytest.approx(stats.chi2.sf(chi2, 2), rel=1e-8)
    assert result["effect_size"]["value"] == pytest.approx(np.sqrt(chi2 / (n * 1)), rel=1e-10)


def test_mann_whitney_u_by_ranks_and_rank_biserial():
    frame = housing()
    result = mann_whitney(frame, "H", "Price", "FurnishingStatus", "furnished",
                          "unfurnished").to_dict()
    x, y = prices(frame, "furnished"), prices(frame, "unfurnished")
    ranks = stats.rankdata(np.concatenate([x, y]))
    u1 = ranks[: len(x)].sum() - len(x) * (len(x) + 1) / 2
    assert result["statistic"] == pytest.approx(u1)
    assert result["effect_size"]["value"] == pytest.approx(2 * u1 / (len(x) * len(y)) - 1)
    expected_p = stats.mannwhitneyu(x, y, alternative="two-sided").pvalue
    assert result["p_value"] == pytest.approx(expected_p, rel=1e-9)


@pytest.mark.parametrize("call, error, fragment", [
    (lambda f: welch_ttest(f, "H", "Nope", "FurnishingStatus", "a", "b"), BadInput, "'Nope'"),
    (lambda f: welch_ttest(f, "H", "Mainroad", "FurnishingStatus", "furnished", "unfurnished"),
     BadInput, "'Mainroad'"),
    (lambda f: welch_ttest(f, "H", "Price", "FurnishingStatus", "furnished", "posh"),
     BadInput, "'FurnishingStatus' in sheet 'H' has no group 'posh'"),
    (lambda f: welch_ttest(f, "H", "Price", "Area", "1", "2"), BadInput, "'Area'"),
    (lambda f: welch_ttest(f, "H", "Const", "Mainroad", "yes", "no"), Unprocessable, "'Const'"),
    (lambda f: anova_oneway(f, "H", "Price", "Single"), Unprocessable, "'Single'"),
    (lambda f: chi2_independence(f, "H", "Single", "Mainroad"), Unprocessable, "'Single'"),
    (lambda f: mann_whitney(f, "H", "Empty", "Mainroad", "yes", "no"), Unprocessable,
     "'Empty'"),
])
def test_bad_input_names_the_column(call, error, fragment):
    frame = housing()
    frame["Const"] = 1.0
    frame["Single"] = "x"
    frame["Empty"] = np.nan
    frame["Area"] = frame["Area"] + 0.5
    with pytest.raises(error) as info:
        call(frame)
    assert fragment in info.value.message


def test_tables_and_json():
    import json

    result = chi2_independence(housing(), "H", "FurnishingStatus", "Mainroad")
    json.dumps(result.to_dict(), allow_nan=False)
    titles = [t for t, _ in result.tables()]
    assert titles == ["Chi-square test of independence", "Observed counts", "Expected counts"]


def test_nearly_constant_group_gives_a_number_not_a_warning():
    """scipy's ttest_ind warns about precision loss here; the closed form does not."""
    x = np.array([1.0, 1.0, 1.0, 1.0])
    y = np.array([1.0 + 4e-16, 1.0, 1.0 + 2e-16, 1.0])
    frame = pd.DataFrame({"v": np.concatenate([x, y]), "g": ["a"] * 4 + ["b"] * 4})
    result = welch_ttest(frame, "S", "v", "g", "a", "b").to_dict()
    t = (x.mean() - y.mean()) / np.sqrt(x.var(ddof=1) / 4 + y.var(ddof=1) / 4)
    assert result["statistic"] == pytest.approx(t, rel=1e-12)
    assert result["df"] == pytest.approx(3.0)  # all the variance is in b: df = n_b - 1
