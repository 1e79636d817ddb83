"""Groups, correlation, price indices and the registry, each against an independent computation."""

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.correlation import correlation
from analysis.groups import group_summary
from analysis.price_index import price_index
from analysis.registry import ANALYSES, TYPES
from errors import BadInput, Unprocessable
from tests.stats_fixtures import dallas, dallas_workbook, housing

ROOT = Path(__file__).resolve().parent.parent


def test_group_summary_matches_pandas_groupby_by_hand():
    frame = housing()
    result = group_summary(frame, "H", "Price", "FurnishingStatus").to_dict()
    total = frame["Price"].sum()
    for row in result["groups"]:
        x = frame.loc[frame["FurnishingStatus"] == row["group"], "Price"].to_numpy(float)
        assert row["count"] == len(x)
        assert row["mean"] == pytest.approx(x.mean())
        assert row["median"] == pytest.approx(np.median(x))
        assert row["std"] == pytest.approx(x.std(ddof=1))
        assert row["share"] == pytest.approx(100 * x.sum() / total)
    assert [r["group"] for r in result["groups"]] == ["furnished", "semi-furnished",
                                                      "unfurnished"]


def test_group_by_whole_numbers_sorts_numerically():
    frame = pd.DataFrame({"v": np.arange(12.0), "g": [10, 2, 1] * 4})
    groups = group_summary(frame, "S", "v", "g").to_dict()["groups"]
    assert [g["group"] for g in groups] == ["1", "2", "10"]


@pytest.mark.parametrize("method, reference", [
    ("pearson", stats.pearsonr), ("spearman", stats.spearmanr), ("kendall", stats.kendalltau)])
def test_correlation_matches_scipy_with_pairwise_n(method, reference):
    frame = dallas("HPI")
    frame.loc[frame.index[:5], "UK"] = np.nan
    result = correlation(frame, "HPI", ["US", "UK", "Spain"], method).to_dict()
    for a, b in (("US", "UK"), ("US", "Spain"), ("UK", "Spain")):
        both = frame[[a, b]].dropna()
        ref = reference(both[a], both[b])
        assert result["matrix"][a][b] == pytest.approx(ref.statistic, rel=1e-10)
        assert result["matrix"][b][a] == result["matrix"][a][b]
        assert result["p_values"][a][b] == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-300)
        assert result["n"][a][b] == len(both)
    assert result["n"]["US"]["UK"] == 176 and result["matrix"]["US"]["US"] == 1.0


def test_correlation_errors_name_the_column():
    frame = housing()
    frame["Const"] = 2.0
    with pytest.raises(Unprocessable, match="'Const'"):
        correlation(frame, "H", ["Price", "Const"])
    with pytest.raises(BadInput, match="'Mainroad'"):
        correlation(frame, "H", ["Price", "Mainroad"])
    with pytest.raises(BadInput, match="'sideways'"):
        correlation(frame, "H", ["Price", "Area"], "sideways")
    sparse = pd.DataFrame({"a": [1.0, 2.0, None], "b": [None, 5.0, 6.0]})
    with pytest.raises(Unprocessable, match="share only 1 row with values; a correlation"):
        correlation(sparse, "S", ["a", "b"])


def test_price_indices_on_a_tiny_table_by_hand():
    table = pd.DataFrame({"p0": [1.0, 2.0, 4.0], "q0": [10.0, 5.0, 2.0],
                          "p1": [1.5, 2.0, 5.0], "q1": [8.0, 6.0, 2.0]})
    result = price_index(table, "T", "p0", "q0", "p1", "q1").to_dict()
    # Σp1q0 = 15 + 10 + 10 = 35; Σp0q0 = 10 + 10 + 8 = 28
    assert result["laspeyres"] == pytest.approx(100 * 35 / 28)
    # Σp1q1 = 12 + 12 + 10 = 34; Σp0q1 = 8 + 12 + 8 = 28
    assert result["paasche"] == pytest.approx(100 * 34 / 28)
    assert result["fisher"] == pytest.approx(np.sqrt(125 * 100 * 34 / 28))
    assert result["n"] == 3 and "Σ(p1·q0)" in result["formula"]["laspeyres"]
    assert r"\frac" in result["formula_latex"]["laspeyres"]
    only = price_index(table, "T", "p0", "q0", "p1").to_dict()
    assert only["paasche"] is None and only["fisher"] is None


def test_price_index_bad_input_names_the_column():
    table = pd.DataFrame({"p0": [0.0, 0.0], "q0": [1.0, 2.0], "p1": [1.0, 1.0],
                          "name": ["a", "b"]})
    with pytest.raises(Unprocessable, match="p0·q0"):
        price_index(table, "T", "p0", "q0", "p1")
    with pytest.raises(BadInput, match="'name'"):
        price_index(table, "T", "name", "q0", "p1")


def loader():
    book = dallas_workbook()
    book["Housing"] = housing()
    return lambda name: book[name]


API_CASES = [
    ("describe", {"sheet": "HPI"}, ["columns"]),
    ("ols", {"sheet": "Housing", "formula": "Price ~ Area"},
     ["n", "r_squared", "adj_r_squared", "f_statistic", "f_p_value", "coefficients"]),
    ("correlation", {"sheet": "HPI", "columns": ["US", "UK"], "method": "kendall"},
     ["matrix", "p_values", "n"]),
    ("growth", {"sheet": "HPI", "columns": ["US"], "periods": 4}, ["index", "series"]),
    ("ttest", {"sheet": "Housing", "value": "Price", "group": "Mainroad", "a": "yes",
               "b": "no"}, ["statistic", "p_value", "effect_size", "reading"]),
    ("anova", {"sheet": "Housing", "value": "Price", "group": "Stories"},
     ["statistic", "p_value"]),
    ("chi2", {"sheet": "Housing", "a": "Mainroad", "b": "Basement"}, ["statistic", "p_value"]),
    ("mannwhitney", {"sheet": "Housing", "value": "Area", "group": "Mainroad", "a": "yes",
                     "b": "no"}, ["statistic", "p_value"]),
    ("groups", {"sheet": "Housing", "value": "Price", "by": "FurnishingStatus"}, ["groups"]),
    ("rebase", {"sheet": "HPI", "base_period": 2010}, ["index", "series"]),
    ("cagr", {"sheet": "HPI", "start": "2000", "end": "2010"}, ["columns"]),
    ("rolling", {"sheet": "HPI", "window": "8"}, ["index", "series"]),
    ("deflator", {"sheet": "HPI", "real_sheet": "RHPI"}, ["index", "series"]),
    ("price_to_income", {"sheet": "HPI", "income_sheet": "PDI", "scale": "100"},
     ["index", "series"]),
    ("drawdown", {"sheet": "HPI", "start": "2007", "end": "2012"}, ["columns"]),
    ("price_index", {"sheet": "Housing", "p0": "Price", "q0": "Area", "p1": "Price"},
     ["laspeyres", "paasche", "fisher"]),
    ("adf", {"sheet": "HPI", "columns": ["US"]}, ["columns", "regression", "null"]),
    ("kpss", {"sheet": "HPI", "columns": ["US"]}, ["columns", "bandwidth", "null"]),
    ("acf", {"sheet": "HPI", "column": "US"}, ["lags", "confidence", "nobs"]),
    ("hp_filter", {"sheet": "HPI", "column": "US"}, ["components", "index", "lambda"]),
    ("stl", {"sheet": "HPI", "column": "US"}, ["components", "index", "period"]),
    ("rolling_stats", {"sheet": "HPI", "column": "US"}, ["components", "index", "window"]),
    ("exuberance", {"sheet": "RHPI", "columns": ["US"]},
     ["columns", "r0", "lag", "critical_values_ready"]),
]


@pytest.mark.parametrize("kind, params, keys", API_CASES, ids=[c[0] for c in API_CASES])
def test_registry_runs_every_kind_with_the_api_contract(kind, params, keys):
    result = ANALYSES[kind].run(loader(), params)
    body = result.to_dict()
    json.dumps(body, allow_nan=False)
    assert body["kind"] == kind and body["sheet"] == params["sheet"]
    assert set(keys) <= set(body)
    assert all(isinstance(t, str) and isinstance(f, pd.DataFrame) for t, f in result.tables())


@pytest.mark.parametrize("kind, params, keys", API_CASES, ids=[c[0] for c in API_CASES])
def test_validated_parameters_validate_again_unchanged(kind, params, keys):
    """The web layer validates first (for its cache key) and then calls run(), which validates
    the already-coerced values again: that second pass must be a no-op."""
    spec = ANALYSES[kind]
    once = spec.validate(params)
    assert spec.validate(once) == once
    json.dumps(once)  # usable in a cache key


def test_registry_covers_every_kind_with_described_parameters():
    assert set(ANALYSES) == {c[0] for c in API_CASES}
    for spec in ANALYSES.values():
        assert spec.title
        for p in spec.parameters:
            assert p.to_dict()["type"] in TYPES and p.help


def test_registry_describe_contract_keys():
    body = ANALYSES["describe"].run(loader(), {"sheet": "Housing"}).to_dict()
    first = body["columns"][0]
    assert {"name", "count", "missing", "mean", "std", "min", "q25", "median", "q75",
            "max"} <= set(first)
    assert first["mean"] == pytest.approx(housing()["Price"].mean())


@pytest.mark.parametrize("kind, params, fragment", [
    ("ols", {"sheet": "Housing"}, "'formula' is required"),
    ("growth", {"sheet": "HPI", "periods": "four"}, "'periods' must be a whole number"),
    ("growth", {"sheet": "HPI", "period": 4}, "Unknown parameter(s) for growth: period"),
    ("correlation", {"sheet": "HPI", "method": "x"}, "'method' must be one of"),
    ("correlation", {"sheet": "HPI", "columns": [1, 2]}, "'columns' must be a list"),
])
def test_registry_rejects_bad_parameters(kind, params, fragment):
    with pytest.raises(BadInput) as info:
        ANALYSES[kind].run(loader(), params)
    assert fragment in info.value.message


def test_analysis_never_imports_flask():
    offenders = []
    for path in sorted((ROOT / "analysis").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names
                          if n.split(".")[0] in {"flask", "apiflask", "werkzeug"}]
    assert offenders == []


def test_every_parameter_has_a_label_in_words():
    """Issue 17: "Cov type" and "Hac lags" were identifiers; each parameter now has a word for
    forms, from PARAMETER_LABELS or its own label, never the fallback from its name."""
    from analysis.labels import PARAMETER_LABELS

    for spec in ANALYSES.values():
        for p in spec.parameters:
            assert p.label or p.name in PARAMETER_LABELS, (spec.kind, p.name)
            assert "_" not in p.heading and p.to_dict()["label"] == p.heading
    ols = {p.name: p.heading for p in ANALYSES["ols"].parameters}
    assert (ols["cov_type"], ols["hac_lags"], ols["cluster"]) == (
        "Standard errors", "Newey–West lags", "Cluster by")
