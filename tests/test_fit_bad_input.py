"""Bad fit requests: each a quick 4xx with a message a person understands, the pool alive after."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from errors import QuartileError
from solver.fit_input import fit_sheet
from tests.equations_fixtures import HOSTILE, hostile_ids, module_client, solver_pool
from tests.upload_actions import UploadActions

QUARTERS = pd.period_range("2000Q1", periods=12, freq="Q")
FRAME = pd.DataFrame({
    "US": 100 * np.exp(0.02 * np.arange(12)) + np.sin(np.arange(12)),
    "UK": np.linspace(50, 80, 12),
    "name": [f"row {i}" for i in range(12)],
    "big": np.linspace(100, 1000, 12),
}, index=QUARTERS)
PLAIN = FRAME.reset_index(drop=True)  # no period index


@pytest.fixture(scope="module")
def pool():
    yield from solver_pool()


def assert_fits(pool) -> None:
    result, _ = fit_sheet(FRAME, "HPI", {"model": "US = a*exp(b*t)"}, pool=pool)
    assert result["parameters"][1]["estimate"] == pytest.approx(0.08, rel=0.05)


CASES = [
    (FRAME, {"model": "US = 2*UK"}, 400, "The model has no parameter to fit"),
    (FRAME, {"model": "a = b*c"}, 400, "The model uses no column of sheet 'HPI'"),
    (FRAME, {"model": "y = a*exp(b*t)"}, 400, "'y' is not a column of sheet 'HPI'"),
    (FRAME, {"model": "a*exp(b*t)"}, 400, "Write the model as response = formula"),
    (FRAME, {"model": "`Atlantis` = a*t"}, 400, "names the column `Atlantis`, which sheet"),
    (PLAIN, {"model": "US = a*exp(b*t)"}, 400, "sheet 'HPI' has no period index"),
    (FRAME, {"model": "US = us*exp(b*t)"}, 400, "The parameter 'us' is named like the column"),
    (FRAME, {"model": "US = a*exp(b*t)", "start": {"UK": 1}}, 400,
     "'start' names 'UK', which is data"),
    (FRAME, {"model": "US = a*exp(b*t)", "start": {"z": 1}}, 400, "not a parameter"),
    (FRAME, {"model": "US = a*foo(t)"}, 400, "Unknown function 'foo'"),
    (FRAME, {"model": "US = a + b*name"}, 400, "Column 'name' in sheet 'HPI' is not numeric"),
    (FRAME.iloc[:2], {"model": "US = a + b*t + c*t^2"}, 422,
     "The model has 3 parameters but only 2 rows"),
    (FRAME, {"model": "US = exp(a*big)", "start": {"a": 10}}, 422,
     "The model cannot be evaluated at the start values"),
    (FRAME, {"model": "US = a*exp(b*t)", "bounds": {"a": [2, 1]}}, 400, "need low < high"),
    (FRAME, {"model": "US = a*exp(b*t)", "plot": "gif"}, 400,
     "'plot' is png, svg, plotly or bokeh"),
    (FRAME, {"model": "US = a*exp(b*t)", "solve": "US = 2*US(2000Q9)"}, 400,
     "not a period like"),
    (FRAME, {"model": "US = a*exp(b*t)", "solve": "US = UK"}, 400, "neither the response"),
    (FRAME, {"model": "US = a*exp(b*t)", "derived": ["log(2)/t"]}, 400,
     "A derived quantity uses the parameters only"),
    (FRAME, {"model": "US = a*exp(b*t)", "derived": ["__import__('os')"]}, 400,
     "Names may not start with '_'"),
    (FRAME, {"model": "US = a*exp(b*t)", "solve": "US = x.__class__"}, 400,
     "Attribute access"),
    (FRAME, {"model": "US = a*exp(b*t)", "colour": "red"}, 400, "Unknown field(s) for a fit"),
    (FRAME, {"model": "UK = a + b*exp(c*t)", "start": {"a": 1, "b": 1, "c": -1}}, 422,
     "The fit did not converge after 1200 evaluations"),  # UK is a straight line: b → ∞
    (FRAME, {"model": "US = a*floor(b*t)"}, 422, "The model has no derivative by b"),
]


@pytest.mark.parametrize(("frame", "body", "status", "message"), CASES,
                         ids=[f"{n:02d}" for n in range(len(CASES))])
def test_bad_fit_is_a_quick_clear_4xx(pool, frame, body, status, message):
    started = time.perf_counter()
    with pytest.raises(QuartileError) as caught:
        fit_sheet(frame, "HPI", body, pool=pool)
    assert time.perf_counter() - started < 2.0
    assert caught.value.status == status
    assert message in caught.value.message
    assert_fits(pool)


@pytest.fixture(scope="module")
def client(sqlite_template, tmp_path_factory, pool):
    yield from module_client(sqlite_template, tmp_path_factory, "fit_bad")


@pytest.fixture(scope="module")
def hpi(client):
    return UploadActions(client).dataset("2020Q1.xlsx")


@pytest.mark.parametrize(("text", "status", "message"), HOSTILE, ids=hostile_ids())
def test_hostile_model_over_http(client, hpi, pool, text, status, message):
    started = time.perf_counter()
    response = client.post(f"/api/v1/datasets/{hpi['id']}/analyses/fit",
                           json={"sheet": "HPI", "model": text})
    assert time.perf_counter() - started < 2.0
    expected = message.replace("The equation 1 is empty", "Give a model such as")
    if (text, status, message) in HOSTILE[-2:]:  # pass the parser, refused by the worker
        status, expected = 400, "Write the model as response = formula"
    if not text.strip():
        expected = "Give a model such as"
    if "\x00" in text:  # refused by the app before any view, as for every request
        expected = "NUL character"
    assert response.status_code == status
    assert expected in response.get_json()["error"]["message"]
    assert_fits(pool)
