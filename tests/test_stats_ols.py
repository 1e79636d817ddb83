"""ols_fit against numpy lstsq, the textbook SE formula and HC3 computed by hand."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.formula import parse_formula
from analysis.ols import ols_fit
from errors import BadInput, Unprocessable
from tests.stats_fixtures import housing


def textbook(X, y):
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    n, k = X.shape
    e = y - X @ beta
    sigma2 = e @ e / (n - k)
    xtx_inv = np.linalg.inv(X.T @ X)
    se = np.sqrt(np.diag(sigma2 * xtx_inv))
    h = np.array([X[i] @ xtx_inv @ X[i] for i in range(n)])
    meat = sum(np.outer(X[i], X[i]) * e[i] ** 2 / (1 - h[i]) ** 2 for i in range(n))
    hc3 = np.sqrt(np.diag(xtx_inv @ meat @ xtx_inv))
    r2 = 1 - e @ e / ((y - y.mean()) @ (y - y.mean()))
    return beta, se, hc3, r2, e


def test_price_on_area_matches_lstsq_and_textbook_errors():
    frame = housing()
    result = ols_fit(frame, "Housing", "Price ~ Area").to_dict()
    y = frame["Price"].to_numpy(float)
    X = np.column_stack([np.ones(len(y)), frame["Area"].to_numpy(float)])
    beta, se, hc3, r2, e = textbook(X, y)
    n, k = X.shape
    coefs = result["coefficients"]
    assert [c["term"] for c in coefs] == ["Intercept", "Area"]
    assert [c["estimate"] for c in coefs] == pytest.approx(beta, rel=1e-9)
    assert [c["std_error"] for c in coefs] == pytest.approx(se, rel=1e-9)
    assert [c["std_error_hc3"] for c in coefs] == pytest.approx(hc3, rel=1e-9)
    t = beta / se
    assert [c["t"] for c in coefs] == pytest.approx(t, rel=1e-9)
    assert [c["p_value"] for c in coefs] == pytest.approx(2 * stats.t.sf(abs(t), n - k),
                                                         rel=1e-6, abs=1e-300)
    crit = stats.t.ppf(0.975, n - k)
    assert [c["ci_low"] for c in coefs] == pytest.approx(beta - crit * se, rel=1e-9)
    assert [c["ci_high"] for c in coefs] == pytest.approx(beta + crit * se, rel=1e-9)
    assert result["n"] == n == 545 and result["df_resid"] == n - k and result["df_model"] == 1
    assert result["r_squared"] == pytest.approx(r2, rel=1e-9)
    assert result["adj_r_squared"] == pytest.approx(1 - (1 - r2) * (n - 1) / (n - k), rel=1e-9)
    f = (r2 / 1) / ((1 - r2) / (n - k))
    assert result["f_statistic"] == pytest.approx(f, rel=1e-9)
    assert result["f_p_value"] == pytest.approx(stats.f.sf(f, 1, n - k), rel=1e-6)
    # simple regression: F equals t² of the slope
    assert result["f_statistic"] == pytest.approx(t[1] ** 2, rel=1e-9)
    d = result["diagnostics"]
    assert d["durbin_watson"] == pytest.approx(np.sum(np.diff(e) ** 2) / (e @ e), rel=1e-9)
    assert d["residual_std"] == pytest.approx(np.sqrt(e @ e / (n - k)), rel=1e-9)
    s, kurt = stats.skew(e), stats.kurtosis(e)
    assert d["jarque_bera"] == pytest.approx(n / 6 * (s**2 + kurt**2 / 4), rel=1e-9)
    aux = textbook(X, e**2)
    assert d["breusch_pagan"] == pytest.approx(n * aux[3], rel=1e-8)
    ll = -n / 2 * (np.log(2 * np.pi) + np.log(e @ e / n) + 1)
    assert result["aic"] == pytest.approx(2 * k - 2 * ll, rel=1e-10)
    assert result["bic"] == pytest.approx(k * np.log(n) - 2 * ll, rel=1e-10)


def dummy_design(frame):
    levels = sorted(frame["FurnishingStatus"].unique())  # first sorted level is the reference
    cols = [np.ones(len(frame)), frame["Area"].to_numpy(float), frame["Bedrooms"].to_numpy(float)]
    cols += [(frame["FurnishingStatus"] == lv).to_numpy(float) for lv in levels[1:]]
    return np.column_stack(cols), levels


def test_categorical_formula_matches_own_dummy_coding():
    frame = housing()
    result = ols_fit(frame, "Housing", "Price ~ Area + Bedrooms + C(FurnishingStatus)").to_dict()
    X, levels = dummy_design(frame)
    y = frame["Price"].to_numpy(float)
    beta, se, hc3, r2, _ = textbook(X, y)
    coefs = result["coefficients"]
    assert levels[0] == "furnished"
    assert [c["term"] for c in coefs] == [
        "Intercept", "Area", "Bedrooms", "C(FurnishingStatus)[T.semi-furnished]",
        "C(FurnishingStatus)[T.unfurnished]"]
    assert [c["estimate"] for c in coefs] == pytest.approx(beta, rel=1e-8)
    assert [c["std_error"] for c in coefs] == pytest.approx(se, rel=1e-8)
    assert [c["std_error_hc3"] for c in coefs] == pytest.approx(hc3, rel=1e-8)
    assert result["r_squared"] == pytest.approx(r2, rel=1e-9)
    assert result["df_model"] == 4


def test_prediction_with_confidence_interval_by_hand():
    frame = housing()
    inputs = {"Area": 5000, "Bedrooms": 3, "FurnishingStatus": "unfurnished"}
    result = ols_fit(frame, "Housing", "Price ~ Area + Bedrooms + C(FurnishingStatus)",
                     predict=[inputs]).to_dict()
    X, _ = dummy_design(frame)
    y = frame["Price"].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    n, k = X.shape
    e = y - X @ beta
    x0 = np.array([1, 5000, 3, 0, 1.0])
    value = x0 @ beta
    se_mean = np.sqrt(e @ e / (n - k) * x0 @ np.linalg.inv(X.T @ X) @ x0)
    crit = stats.t.ppf(0.975, n - k)
    (pred,) = result["predictions"]
    assert pred["inputs"]["FurnishingStatus"] == "unfurnished"
    assert pred["value"] == pytest.approx(value, rel=1e-9)
    assert pred["ci_low"] == pytest.approx(value - crit * se_mean, rel=1e-9)
    assert pred["ci_high"] == pytest.approx(value + crit * se_mean, rel=1e-9)


def test_no_intercept_log_interaction_and_odd_names():
    frame = housing().rename(columns={"Area": "Floor area (sq ft)"})
    result = ols_fit(frame, "H", "log(Price) ~ log(`Floor area (sq ft)`) + "
                     "Q(\"Bedrooms\"):C(Mainroad) - 1").to_dict()
    y = np.log(frame["Price"].to_numpy(float))
    main = (frame["Mainroad"] == "yes").to_numpy(float)
    beds = frame["Bedrooms"].to_numpy(float)
    X = np.column_stack([np.log(frame["Floor area (sq ft)"].to_numpy(float)),
                         beds * (1 - main), beds * main])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert [c["term"] for c in result["coefficients"]] == [
        "log(Floor area (sq ft))", "Bedrooms:C(Mainroad)[no]", "Bedrooms:C(Mainroad)[yes]"]
    assert [c["estimate"] for c in result["coefficients"]] == pytest.approx(beta, rel=1e-8)
    e = y - X @ beta
    assert result["r_squared"] == pytest.approx(1 - e @ e / (y @ y), rel=1e-9)  # uncentered


def test_rows_with_missing_values_are_dropped():
    frame = housing()
    frame.loc[[3, 10], "Area"] = np.nan
    result = ols_fit(frame, "H", "Price ~ Area").to_dict()
    kept = frame.dropna(subset=["Area"])
    X = np.column_stack([np.ones(len(kept)), kept["Area"].to_numpy(float)])
    beta, *_ = np.linalg.lstsq(X, kept["Price"].to_numpy(float), rcond=None)
    assert result["n"] == 543 and result["n_dropped"] == 2
    assert result["coefficients"][1]["estimate"] == pytest.approx(beta[1], rel=1e-9)


def test_formula_text_never_evaluated():
    frame = housing()
    with pytest.raises(BadInput, match="not supported"):
        ols_fit(frame, "H", "Price ~ __import__('os')")
    with pytest.raises(BadInput, match="unexpected character"):
        ols_fit(frame, "H", "Price ~ Area; import os")


@pytest.mark.parametrize("formula, error, fragment", [
    ("Price ~ Nope", BadInput, "'Nope'"),
    ("Nope ~ Area", BadInput, "'Nope'"),
    ("Price ~ log(FurnishingStatus)", BadInput,
     "'FurnishingStatus' in sheet 'H' is not numeric"),
    ("Price ~ Area + Const", Unprocessable, "'Const' is constant"),
    ("Price ~ Area + Empty", Unprocessable, "Column 'Empty' in sheet 'H' has no values"),
    ("Price ~ Area + Infinite", Unprocessable, "'Infinite' in sheet 'H' has an infinite value "
                                               "at row 4"),
    ("Price ~ Area + C(Price)", BadInput, "Column 'Price' is the response"),
    ("Price ~ Area + Area2", Unprocessable, "term 'Area2' is an exact linear combination of the "
                                            "terms before it (Intercept, Area); remove it or one "
                                            "of those (condition number "),
    ("Price ~ Area + expm1(Bedrooms)", BadInput, "'expm1' is not supported"),
    ("Price ~ Area - Bedrooms", BadInput, "only for the intercept"),
    ("Price ~ C(Guestroom) + C(Single)", Unprocessable, "C(Single) has only one level"),
    ("Price ~ OECD-19", BadInput, "backquotes"),
    ("Price ~ log(Shift)", Unprocessable, "log(Shift)"),
])
def test_bad_formulas_name_the_column(formula, error, fragment):
    frame = housing()
    frame["Const"] = 3.0
    frame["Empty"] = np.nan
    frame["Area2"] = 2 * frame["Area"] + 1
    frame["Single"] = "x"
    frame["Shift"] = frame["Area"] - 3000
    frame["Infinite"] = frame["Area"].where(frame.index != 4, np.inf)
    frame["Half"] = frame["Price"] / 2
    before = frame.copy()
    with pytest.raises(error) as info:
        ols_fit(frame, "H", formula)
    assert fragment in info.value.message
    pd.testing.assert_frame_equal(frame, before)  # the input is not harmed


def test_too_few_rows():
    frame = housing().head(3)
    with pytest.raises(Unprocessable, match="Too few rows: 3 rows .* Price, Area, Bedrooms"):
        ols_fit(frame, "H", "Price ~ Area + Bedrooms")
    with pytest.raises(Unprocessable, match="Too few rows: 1 row of sheet 'H' has all of Pri"):
        ols_fit(housing().head(1), "H", "Price ~ Area")


def test_bad_prediction_inputs_name_the_column():
    frame = housing()
    with pytest.raises(BadInput, match="no value for column 'Bedrooms'"):
        ols_fit(frame, "H", "Price ~ Area + Bedrooms", predict=[{"Area": 1}])
    with pytest.raises(BadInput, match="'posh' is not a level of 'FurnishingStatus'"):
        ols_fit(frame, "H", "Price ~ C(FurnishingStatus)",
                predict={"FurnishingStatus": "posh"})
    with pytest.raises(BadInput, match="column 'Area' must be a finite number"):
        ols_fit(frame, "H", "Price ~ Area", predict=[{"Area": "big"}])


def test_parser_handles_intercept_forms():
    frame = housing()
    assert not parse_formula("Price ~ 0 + Area", frame, "H").intercept
    assert not parse_formula("Price ~ Area + 0", frame, "H").intercept
    assert parse_formula("Price ~ 1 + Area", frame, "H").intercept
    assert parse_formula("Price ~ Area + Area", frame, "H").terms == (
        parse_formula("Price ~ Area", frame, "H").terms)


def test_tables_export_coefficients():
    frame = housing()
    tables = dict(ols_fit(frame, "H", "Price ~ Area + C(FurnishingStatus)").tables())
    coefficients = next(t for title, t in tables.items() if title.endswith("coefficients"))
    assert coefficients.columns[:6].tolist() == ["Term", "Coefficient", "Std. error", "t", "p",
                                                 "Significance"]
    levels = sorted(frame["FurnishingStatus"].unique())
    assert coefficients["Term"].tolist() == ["Intercept", "Area", *(
        f"FurnishingStatus: {level}" for level in levels[1:])]  # words, not C(…)[T.…]
    assert coefficients["Significance"][1] == "***"  # Area: p far below 0.001
    model = dict(zip(tables["Model"]["Statistic"], tables["Model"]["Value"], strict=True))
    assert model["Observations"] == len(frame)
    assert model["Standard errors"] == "classical (homoskedastic)"
    reference = sorted(frame["FurnishingStatus"].unique())[0]
    assert f"Reference level of FurnishingStatus: {reference}." in tables["Notes"]["Note"].tolist()


def test_unicode_names_need_no_backquotes():
    frame = housing().rename(columns={"Area": "Größe"})
    result = ols_fit(frame, "H", "Price ~ Größe").to_dict()
    X = np.column_stack([np.ones(len(frame)), frame["Größe"].to_numpy(float)])
    beta, *_ = np.linalg.lstsq(X, frame["Price"].to_numpy(float), rcond=None)
    assert [c["term"] for c in result["coefficients"]] == ["Intercept", "Größe"]
    assert result["coefficients"][1]["estimate"] == pytest.approx(beta[1], rel=1e-9)


def test_cell_means_model_without_intercept_and_its_breusch_pagan():
    """y ~ C(g) - 1: one column per level, estimates are the group means, and the auxiliary
    Breusch-Pagan regression on [1, X] (which already spans the constant) has df = levels - 1."""
    frame = housing()
    result = ols_fit(frame, "H", "Price ~ C(FurnishingStatus) - 1").to_dict()
    means = frame.groupby("FurnishingStatus")["Price"].mean()
    assert [c["term"] for c in result["coefficients"]] == [
        f"C(FurnishingStatus)[{lv}]" for lv in means.index]
    assert [c["estimate"] for c in result["coefficients"]] == pytest.approx(means.to_numpy())
    y = frame["Price"].to_numpy(float)
    e = y - frame["FurnishingStatus"].map(means).to_numpy()
    e2 = e**2
    fitted = frame.assign(e2=e2).groupby("FurnishingStatus")["e2"].transform("mean").to_numpy()
    r2 = 1 - ((e2 - fitted) ** 2).sum() / ((e2 - e2.mean()) ** 2).sum()
    lm = len(y) * r2
    d = result["diagnostics"]
    assert d["breusch_pagan"] == pytest.approx(lm, rel=1e-8)
    assert d["breusch_pagan_p_value"] == pytest.approx(stats.chi2.sf(lm, 2), rel=1e-6)


@pytest.mark.parametrize(("term", "label"), [
    ("C(FurnishingStatus)[T.semi-furnished]", "FurnishingStatus: semi-furnished"),
    ("Mainroad[T.yes]", "Mainroad: yes"),
    ("C(`Furnishing status`)[T.un furnished]", "Furnishing status: un furnished"),
    ("Intercept", "Intercept"), ("lag(US, 1)", "lag(US, 1)"), ("poly(x, 3)[1]", "poly(x, 3)[1]"),
    ("C(a)[T.x]:C(b)[T.y]", "C(a)[T.x]:C(b)[T.y]"),  # interactions stay as the formula reads
])
def test_term_labels_name_the_factor_and_its_level(term, label):
    from analysis.labels import term_label

    assert term_label(term) == label
