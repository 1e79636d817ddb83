"""ChartSpec: the API shape, its checks, and the cache key."""

from __future__ import annotations

import hashlib
import json

import pytest

from errors import BadInput
from rendition.charts import KINDS, ChartSpec

BASE = {"kind": "line", "sheet": "HPI", "y": ["Australia", "US"]}


def test_round_trip_keeps_every_field():
    body = {
        "dataset": "ds-1",
        "kind": "compare_sheets",
        "sheet": "HPI",
        "x": None,
        "y": ["Australia"],
        "group": None,
        "sheets": ["HPI", "RHPI"],
        "options": {"title": "Prices", "log_y": True, "start": "2000Q1", "end": "2019Q4"},
    }
    spec = ChartSpec.from_dict(body)
    assert spec.to_dict() == body
    assert spec.y == ("Australia",) and spec.sheets == ("HPI", "RHPI")
    assert spec.sheet_names() == ("HPI", "RHPI")


def test_defaults_for_missing_fields():
    spec = ChartSpec.from_dict({"kind": "pie", "sheet": "S"})
    assert spec.to_dict() == {
        "dataset": None, "kind": "pie", "sheet": "S", "x": None, "y": [], "group": None,
        "sheets": None, "options": {},
    }


def test_spec_hash_is_sha256_of_canonical_json():
    spec = ChartSpec.from_dict({**BASE, "options": {"title": "Ünïcode", "width": 800}})
    canonical = json.dumps(spec.to_dict(), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    assert spec.spec_hash() == hashlib.sha256(canonical.encode()).hexdigest()


def test_spec_hash_ignores_key_order_but_not_content():
    a = ChartSpec.from_dict({"sheet": "HPI", "y": ["Australia", "US"], "kind": "line",
                             "options": {"width": 800, "title": "t"}})
    b = ChartSpec.from_dict({**BASE, "options": {"title": "t", "width": 800}})
    c = ChartSpec.from_dict({**BASE, "y": ["US", "Australia"], "options": {"title": "t",
                                                                          "width": 800}})
    d = ChartSpec.from_dict({**BASE, "dataset": 2, "options": {"title": "t", "width": 800}})
    assert a.spec_hash() == b.spec_hash()
    assert len({a.spec_hash(), c.spec_hash(), d.spec_hash()}) == 3


def test_spec_is_frozen():
    spec = ChartSpec.from_dict(BASE)
    with pytest.raises(AttributeError):
        spec.kind = "bar"  # type: ignore[misc]


def test_every_kind_is_accepted():
    for kind in KINDS:
        assert ChartSpec.from_dict({**BASE, "kind": kind}).kind == kind


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "A chart spec must be a JSON object."),
        ({"sheet": "HPI"}, "The chart spec needs a 'kind'"),
        ({**BASE, "kind": "donut"}, "Unknown chart kind 'donut'; choose one of line, bar"),
        ({**BASE, "colour": "red"}, "Unknown field 'colour' in the chart spec"),
        ({"kind": "line", "y": ["A"]}, "The chart spec needs 'sheet'"),
        ({**BASE, "sheet": "  "}, "'sheet' must be a non-empty string"),
        ({**BASE, "y": "Australia"}, "'y' must be a list of names"),
        ({**BASE, "y": ["Australia", 3]}, "'y[1]' must be a non-empty string"),
        ({**BASE, "y": ["US", "US"]}, "'y' lists 'US' twice."),
        ({**BASE, "x": 5}, "'x' must be a non-empty string, or null."),
        ({**BASE, "sheets": "RHPI"}, "'sheets' must be a list of names"),
        ({**BASE, "dataset": True}, "'dataset' must be a dataset id"),
        ({**BASE, "options": []}, "'options' must be a JSON object."),
        ({**BASE, "options": {"colour": 1}}, "Unknown chart option 'colour'; the options are"),
        ({**BASE, "options": {"log_y": "yes"}}, "Option 'log_y' must be true or false; got 'yes'"),
        ({**BASE, "options": {"width": 50}}, "Option 'width' must be a whole number of pixels"),
        ({**BASE, "options": {"width": True}}, "Option 'width' must be a whole number"),
        ({**BASE, "options": {"bins": 2.5}}, "Option 'bins' must be a whole number"),
        ({**BASE, "options": {"agg": "median"}}, "Option 'agg' must be one of count, sum, mean"),
        ({**BASE, "options": {"title": "x" * 201}}, "Option 'title' must be a string of at most"),
    ],
)
def test_malformed_specs_are_bad_input(body, message):
    with pytest.raises(BadInput) as err:
        ChartSpec.from_dict(body)
    assert err.value.status == 400
    assert message in err.value.message


def test_null_option_means_default():
    spec = ChartSpec.from_dict({**BASE, "options": {"title": None, "bins": 10}})
    assert spec.options == {"bins": 10}


def test_equal_specs_are_equal_and_hashable():
    a = ChartSpec.from_dict({**BASE, "options": {"title": "t"}})
    b = ChartSpec.from_dict({**BASE, "options": {"title": "t"}})
    c = ChartSpec.from_dict({**BASE, "options": {"title": "u"}})
    assert a == b and hash(a) == hash(b) and a != c
    assert len({a, b, c}) == 2


def test_null_y_is_an_empty_selection():
    assert ChartSpec.from_dict({"kind": "pie", "sheet": "S", "y": None}).y == ()
