"""OpenAPI schemas of `/api/v1/families` (issue 14's contract: extend, never break)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import INCLUDE


class ReleaseOut(Schema):
    dataset = String(required=True)
    label = String(allow_none=True, required=True)
    last_period = String(allow_none=True, required=True)
    name = String()
    sha256 = String()


class FamilyOut(Schema):
    id = String(required=True)
    name = String(required=True)
    created = String()
    releases = List(Nested(ReleaseOut), required=True, metadata={
        "description": "Oldest first, by label (or last period), not by upload time"})
    sheets = List(String(), metadata={"description": "Time-series sheets of the releases"})


class FamilyDetailOut(FamilyOut):
    sheet = String(allow_none=True, metadata={"description": "The sheet `series` maps"})
    series = List(Dict(), required=True, metadata={"description": (
        'Series matched across releases: {"name", "sheet", "aliases": [{"release", "name"}], '
        '"first_release", "last_release", "added_in", "last_published_in", "evidence": '
        '[{"release", "name", "matched_to", "by": "name|normalised|values|user", '
        '"periods_compared", "largest_difference"}]}')})


class SheetQuery(Schema):
    sheet = String(validate=Length(max=300), metadata={
        "description": "The sheet (default: the first time-series sheet)"})


class FamilyPatch(Schema):
    name = String(validate=Length(min=1, max=200))
    releases = Dict(keys=String(validate=Length(max=32)), values=String(validate=Length(
        min=1, max=64)), metadata={"description": "New labels: {dataset id: label}"})


class FamilyIn(Schema):
    name = String(required=True, validate=Length(min=1, max=200))


class ReleaseIn(Schema):
    dataset = String(required=True, validate=Length(min=1, max=32))
    label = String(validate=Length(min=1, max=64), metadata={
        "description": "Default: from the file name or the last period"})


class CorrectionIn(Schema):
    release = String(required=True, validate=Length(min=1, max=64),
                     metadata={"description": "The release label"})
    sheet = String(required=True, validate=Length(min=1, max=300))
    column = String(required=True, validate=Length(min=1, max=300),
                    metadata={"description": "The column's name in that release"})
    series = String(required=True, allow_none=True, validate=Length(max=300), metadata={
        "description": "The series it is (its name in the latest release), or null: a series "
                       "of its own"})


class FamilyAnalysisIn(Schema):
    class Meta:
        unknown = INCLUDE

    sheet = String(validate=Length(max=300))
    series = String(validate=Length(max=300), metadata={
        "description": "vintages: required; revisions: optional (all series by default)"})
    horizons = Integer(validate=Range(min=1, max=200), metadata={"description": "revisions"})
    previous = String(validate=Length(max=64), metadata={"description": "changes: a label"})
    latest = String(validate=Length(max=64), metadata={"description": "changes: a label"})
    threshold_pct = Float(validate=Range(min=0, max=1e6), metadata={"description": "changes"})


class ChartQuery(Schema):
    sheet = String(validate=Length(max=300))
    series = String(required=True, validate=Length(min=1, max=300))


KINDS = ("vintages", "revisions", "changes")
CHART_KINDS = ("fan", "heatmap", "horizons")


class RecipeIn(Schema):
    kind = String(required=True, validate=OneOf(["analysis", *KINDS]), metadata={
        "description": "analysis (on a dataset) or a family analysis"})
    dataset = String(validate=Length(max=32))
    family = String(validate=Length(max=32))
    analysis = String(validate=Length(max=64), metadata={"description": "kind=analysis: which"})
    params = Dict(load_default=dict)
    title = String(load_default="", validate=Length(max=300))


class RecipeRunIn(Schema):
    dataset = String(validate=Length(max=32), metadata={
        "description": "The release to run on (default: the latest release of the family)"})
