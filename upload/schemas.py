"""OpenAPI schemas of the datasets API (what API clients rely on; see issue 4's contract)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, File, Integer, List, Nested, Raw, String
from apiflask.validators import Length, OneOf, Range

from upload.by_period import STATS
from upload.dates import DATE_TYPES


class ColumnOut(Schema):
    name = String(required=True)
    dtype = String(required=True)
    original = String(allow_none=True)


class IndexOut(Schema):
    name = String(required=True)
    kind = String(required=True, validate=OneOf(["period", "datetime", "year"]))
    freq = String(allow_none=True)
    start = String(required=True)
    end = String(required=True)


class SheetOut(Schema):
    name = String(required=True)
    original_name = String()
    turned_from = String(allow_none=True, metadata={"description": (
        "Set on a sheet Quartile added: the wide sheet (one row per series, one column per "
        "period) or long sheet (one row per series and period) it turns into one column per "
        "series over a period index")})
    derived_from = Dict(allow_none=True, metadata={"description": (
        "Set on a sheet built by `by-period`: {sheet, rule: {sheet, date, value, freq, stats, "
        "group}, detail}, the source sheet and the rule that made it")})
    n_rows = Integer(required=True)
    n_cols = Integer(required=True)
    columns = List(Nested(ColumnOut), required=True)
    index = Nested(IndexOut, allow_none=True, required=True)


class DerivedSheetOut(SheetOut):
    """A sheet `by-period` built: as it appears in the dataset's `sheets` (its own name in
    the OpenAPI document, as SheetOut is only ever nested)."""


class LogEntryOut(Schema):
    sheet = String(allow_none=True, required=True)
    step = String(required=True)
    detail = String(required=True)


class DatasetOut(Schema):
    id = String(required=True)
    name = String(required=True)
    sha256 = String(required=True)
    size = Integer(required=True)
    format = String(required=True)
    created = String(required=True)
    owner = String(required=True)
    is_public = Boolean(required=True)
    sheets = List(Nested(SheetOut), required=True)
    cleaning_log = List(Nested(LogEntryOut), required=True)
    options = Dict()
    family = Dict(allow_none=True, metadata={"description": "{id, name} when a release"})
    release = String(allow_none=True, metadata={"description": "The release label"})
    last_period = String(allow_none=True)
    proposed_family = Dict(allow_none=True, metadata={"description": (
        "On upload, when the dataset looks like a new release of one of your families: "
        "{id, name, label, similarity}; join it with PATCH /api/v1/families/<id>")})


class DatasetListOut(Schema):
    datasets = List(Nested(DatasetOut), required=True)
    total = Integer(required=True)


class DatasetListQuery(Schema):
    q = String(load_default="", validate=Length(max=200))
    limit = Integer(load_default=100, validate=Range(min=1, max=1000))
    offset = Integer(load_default=0, validate=Range(min=0, max=10**9))


class UploadIn(Schema):
    file = List(File(), required=True, validate=Length(min=1, max=500), metadata={
        "description": "XLSX, XLSM, XLS, ODS, CSV or TSV; several `file` fields, or one .zip "
                       "of workbooks, are ingested together in one background job"})
    family = String(validate=Length(max=16), metadata={"description": (
        "Make the upload a release of this family of yours (its id), or of a new family "
        "(`new`). Several files (or a zip) with no family go into a new family.")})
    release = String(validate=Length(max=64), metadata={"description": (
        "The release label (e.g. 2020Q1); by default from the file name or the last period. "
        "One file only.")})


class RowsQuery(Schema):
    offset = Integer(load_default=0, validate=Range(min=0, max=10**9))
    limit = Integer(load_default=100, validate=Range(min=1, max=5000))


class RowsOut(Schema):
    columns = List(String(), required=True)
    index = List(String(), allow_none=True, required=True)
    rows = List(List(Raw(allow_none=True)), required=True)
    total = Integer(required=True)


class FirstLookLinkOut(Schema):
    label = String(required=True)
    page = String(required=True, metadata={"description": "analysis or chart"})
    params = Dict(required=True, metadata={"description": "The analysis' (or chart's) kind "
                                                         "and parameters"})
    href = String(required=True, allow_none=True,
                  metadata={"description": "The page that shows the alert"})


class FirstLookAlertOut(Schema):
    kind = String(required=True, metadata={
        "description": "missing, constant, near_constant, correlation, outliers, "
                       "stops_early, gaps or starts_late"})
    severity = String(required=True, metadata={"description": "warning or note"})
    title = String(required=True)
    columns = List(String(), required=True)
    message = String(required=True)
    figures = Dict(required=True, metadata={"description": "The alert's numbers"})
    links = List(Nested(FirstLookLinkOut), required=True)


class FirstLookOut(Schema):
    kind = String(required=True)
    sheet = String(required=True)
    n_rows = Integer(required=True)
    n_columns = Integer(required=True)
    time_series = Boolean(required=True)
    correlation_rows = Integer(required=True, metadata={
        "description": "Rows the correlations used (a random sample when below n_rows)"})
    thresholds = Dict(required=True)
    alerts = List(Nested(FirstLookAlertOut), required=True)


class DatasetPatch(Schema):
    is_public = Boolean(required=True)


class ShareIn(Schema):
    username = String(required=True, validate=Length(min=1, max=64))


COLUMN_TYPES = ["number", "text", "date", "category", *DATE_TYPES]


class SheetOverride(Schema):
    header_row = Integer(validate=Range(min=1, max=1000), allow_none=True)
    types = Dict(
        keys=String(validate=Length(max=300)),
        values=String(validate=OneOf(COLUMN_TYPES)),
        metadata={"description": (
            "Column name → type. Date types: `date` (any written form), `date_iso`, "
            "`date_dayfirst`, `date_monthfirst` (3/12/2016 as 3 December or March 12), "
            "`date_month`, `date_quarter`, `date_fy_<mon>` (financial years such as 2001-02 "
            "ending in that month, e.g. `date_fy_jun`; March unless chosen)")},
    )


class ByPeriodIn(Schema):
    date = String(required=True, validate=Length(min=1, max=300),
                  metadata={"description": "A column of dates or periods"})
    value = String(required=True, validate=Length(min=1, max=300),
                   metadata={"description": "A numeric column (a price)"})
    freq = String(required=True, validate=OneOf(["M", "Q", "Y"]))
    stats = List(String(validate=OneOf(list(STATS))), load_default=list(STATS),
                 validate=Length(min=1, max=3))
    group = String(load_default=None, allow_none=True, validate=Length(min=1, max=300),
                   metadata={"description": "A column whose values (region, property type) "
                                            "each get their own columns"})


class ReparseIn(Schema):
    sheets = Dict(
        keys=String(validate=Length(max=300)), values=Nested(SheetOverride), required=True
    )


class UploadQuery(Schema):
    background = Boolean(load_default=False, metadata={"description": (
        "Parse as a background job: answer 202 with the job at once (follow "
        "/api/v1/jobs/<id>/events; its result names the dataset). For big files.")})


QUEUED_UPLOAD = {
    "description": "Queued as a background ingest job (`background=true`, or several files, "
                   "or a zip); the job's result is {dataset, name, created, sheets} once it "
                   "is done, or for several files {family, datasets, problems}",
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["id", "kind", "state", "progress"],
        "properties": {"id": {"type": "string"}, "job": {"type": "string"},
                       "kind": {"type": "string"},
                       "state": {"type": "string"}, "progress": {"type": "integer"},
                       "message": {"type": "string"}}}}},
}
