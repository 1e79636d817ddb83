"""Standard errors by cov_type against statsmodels' OLS on the same design (1e-9 relative)."""

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis.covariance import newey_west_lags
from analysis.ols import ols_fit
from errors import BadInput
from tests.stats_fixtures import dallas_workbook, housing

FORMULA = "Price ~ Area + Bedrooms + C(FurnishingStatus)"


def reference(frame, **fit):
    levels = sorted(frame["FurnishingStatus"].unique())
    X = np.column_stack([np.ones(len(frame)), frame["Area"], frame["Bedrooms"]]
                        + [(frame["FurnishingStatus"] == lv).to_numpy(float)
                           for lv in levels[1:]])
    return sm.OLS(frame["Price"].to_numpy(float), X).fit(use_t=True, **fit)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3"])
def test_heteroskedasticity_robust_errors_equal_statsmodels(cov_type):
    frame = housing()
    result = ols_fit(frame, "H", FORMULA, cov_type=cov_type).to_dict()
    ref = reference(frame, cov_type=cov_type)
    coefs = result["coefficients"]
    assert [c["std_error"] for c in coefs] == pytest.approx(ref.bse, rel=1e-9)
    assert [c["t"] for c in coefs] == pytest.approx(ref.tvalues, rel=1e-9)
    assert [c["p_value"] for c in coefs] == pytest.approx(ref.pvalues, rel=1e-7, abs=1e-300)
    ci = ref.conf_int()
    assert [c["ci_low"] for c in coefs] == pytest.approx(ci[:, 0], rel=1e-9)
    assert result["cov_type"] == cov_type
    # the HC3 columns stay whatever the choice
    assert [c["std_error_hc3"] for c in coefs] == pytest.approx(
        reference(frame, cov_type="HC3").bse, rel=1e-9)


def test_classical_errors_equal_statsmodels():
    frame = housing()
    coefs = ols_fit(frame, "H", FORMULA).to_dict()["coefficients"]
    assert [c["std_error"] for c in coefs] == pytest.approx(reference(frame).bse, rel=1e-9)


@pytest.mark.parametrize("lags", [None, 0, 3, 8])
def test_newey_west_equals_statsmodels_hac(lags):
    frame = dallas_workbook()["HPI"]
    result = ols_fit(frame, "HPI", "US ~ Canada + Australia", cov_type="HAC",
                     hac_lags=lags).to_dict()
    n = result["n"]
    used = math.floor(4 * (n / 100) ** (2 / 9)) if lags is None else lags
    assert result["hac_lags"] == used == (newey_west_lags(n) if lags is None else lags)
    rows = frame[["US", "Canada", "Australia"]].dropna()
    X = sm.add_constant(rows[["Canada", "Australia"]].to_numpy(float))
    ref = sm.OLS(rows["US"].to_numpy(float), X).fit(cov_type="HAC", use_t=True,
                                                   cov_kwds={"maxlags": used})
    coefs = result["coefficients"]
    assert [c["std_error"] for c in coefs] == pytest.approx(ref.bse, rel=1e-9)
    assert [c["p_value"] for c in coefs] == pytest.approx(ref.pvalues, rel=1e-7, abs=1e-300)
    assert any(f"{used} lag(s)" in note for note in result["notes"])


def test_clustered_errors_equal_statsmodels():
    frame = housing()
    result = ols_fit(frame, "H", "Price ~ Area + Bedrooms", cov_type="cluster",
                     cluster="FurnishingStatus").to_dict()
    X = sm.add_constant(frame[["Area", "Bedrooms"]].to_numpy(float))
    groups = pd.factorize(frame["FurnishingStatus"])[0]
    ref = sm.OLS(frame["Price"].to_numpy(float), X).fit(cov_type="cluster", use_t=True,
                                                       cov_kwds={"groups": groups})
    coefs = result["coefficients"]
    assert [c["std_error"] for c in coefs] == pytest.approx(ref.bse, rel=1e-9)
    assert [c["p_value"] for c in coefs] == pytest.approx(ref.pvalues, rel=1e-7)
    assert result["clusters"] == 3
    crit = stats.t.ppf(0.975, 2)  # G - 1 degrees of freedom
    assert coefs[1]["ci_high"] == pytest.approx(ref.params[1] + crit * ref.bse[1], rel=1e-9)


def test_clustered_rows_without_a_cluster_are_left_out():
    frame = housing()
    frame.loc[:9, "FurnishingStatus"] = None
    result = ols_fit(frame, "H", "Price ~ Area", cov_type="cluster",
                     cluster="FurnishingStatus").to_dict()
    assert result["n"] == len(frame) - 10 and result["n_dropped"] == 10


@pytest.mark.parametrize("options, fragment", [
    ({"cov_type": "HAC", "hac_lags": 1000}, "hac_lags must be from 0 to"),
    ({"cov_type": "HC3", "hac_lags": 2}, "hac_lags applies only to cov_type HAC"),
    ({"cov_type": "cluster"}, "needs the column that defines the clusters"),
    ({"cov_type": "cluster", "cluster": "Nope"}, "cluster column 'Nope'"),
    ({"cov_type": "HC9"}, "cov_type must be one of"),
])
def test_bad_covariance_options_are_400(options, fragment):
    with pytest.raises(BadInput, match=fragment):
        ols_fit(housing(), "H", "Price ~ Area", **options)
