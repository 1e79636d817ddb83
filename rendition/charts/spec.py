"""The chart spec: one description of a chart, the same for the API, the cache and every renderer.

The shape is the API contract of `POST /api/v1/charts` (extend, never break):
`{"dataset", "kind", "sheet", "x", "y", "group", "sheets", "options"}`. `from_dict` checks the
*shape* only (types, known fields, known options) and raises `BadInput`; whether the columns
exist and suit the kind is `validate()`'s job, because that needs the data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from errors import BadInput

KINDS = (
    "line",
    "bar",
    "pie",
    "scatter",
    "hist",
    "box",
    "heatmap",
    "small_multiples",
    "compare_sheets",
)

# Which structural fields each kind reads. The chart builder can use this to show only the
# inputs that matter; `validate()` rejects a field a kind does not use rather than ignore it.
#   x: "no" | "optional" (None = the sheet's index) | "required"
#   group: bool, sheets: bool, y: (min, max or None)
KIND_FIELDS: dict[str, dict[str, Any]] = {
    "line": {"x": "optional", "y": (1, None), "group": False, "sheets": False},
    "bar": {"x": "optional", "y": (0, None), "group": True, "sheets": False},
    "pie": {"x": "optional", "y": (0, None), "group": True, "sheets": False},
    "scatter": {"x": "required", "y": (1, None), "group": False, "sheets": False},
    "hist": {"x": "no", "y": (1, None), "group": False, "sheets": False},
    "box": {"x": "no", "y": (1, None), "group": True, "sheets": False},
    "heatmap": {"x": "no", "y": (2, None), "group": False, "sheets": False},
    "small_multiples": {"x": "optional", "y": (1, None), "group": False, "sheets": False},
    "compare_sheets": {"x": "no", "y": (1, None), "group": False, "sheets": True},
}

AGGREGATES = ("count", "sum", "mean")

# option name -> (python type(s), check, human description)
_OPTION_RULES: dict[str, tuple[tuple[type, ...], Any, str]] = {
    "title": ((str,), lambda v: len(v) <= 200, "a string of at most 200 characters"),
    "log_y": ((bool,), lambda v: True, "true or false"),
    "start": ((str,), lambda v: 0 < len(v) <= 40, "a period such as \"2000Q1\""),
    "end": ((str,), lambda v: 0 < len(v) <= 40, "a period such as \"2019Q4\""),
    "width": ((int,), lambda v: 200 <= v <= 4000, "a whole number of pixels from 200 to 4000"),
    "height": ((int,), lambda v: 150 <= v <= 4000, "a whole number of pixels from 150 to 4000"),
    "bins": ((int,), lambda v: 1 <= v <= 500, "a whole number from 1 to 500"),
    "agg": ((str,), lambda v: v in AGGREGATES, "one of " + ", ".join(AGGREGATES)),
    "cols": ((int,), lambda v: 1 <= v <= 12, "a whole number of columns from 1 to 12"),
    "fit": ((bool,), lambda v: True, "true or false"),
}
OPTION_NAMES = tuple(_OPTION_RULES)

_FIELDS = ("dataset", "kind", "sheet", "x", "y", "group", "sheets", "options")
_MAX_NAME = 500
_MAX_LIST = 200


@dataclass(frozen=True)
class ChartSpec:
    """What to draw. `x=None` means the sheet's index (quarters for the Dallas Fed sheets).

    `y` and `sheets` are tuples so the spec cannot change after validation; `options` is a
    private copy (treat it as read-only). `dataset` is carried so that `spec_hash()` is a
    complete cache key; renderers ignore it.
    """

    kind: str
    sheet: str
    y: tuple[str, ...] = ()
    x: str | None = None
    group: str | None = None
    sheets: tuple[str, ...] | None = None
    options: dict[str, Any] = field(default_factory=dict, hash=False)  # eq still compares it
    dataset: str | int | None = None

    @classmethod
    def from_dict(cls, data: Any) -> ChartSpec:
        """Build a spec from decoded JSON, or raise BadInput saying which field is wrong."""
        if not isinstance(data, Mapping):
            raise BadInput("A chart spec must be a JSON object.")
        unknown = [k for k in data if k not in _FIELDS]
        if unknown:
            raise BadInput(
                f"Unknown field {unknown[0]!r} in the chart spec; "
                f"the fields are {', '.join(_FIELDS)}."
            )
        kind = data.get("kind")
        if not isinstance(kind, str):
            raise BadInput("The chart spec needs a 'kind' (one of " + ", ".join(KINDS) + ").")
        if kind not in KINDS:
            raise BadInput(f"Unknown chart kind {kind!r}; choose one of {', '.join(KINDS)}.")
        sheet = _name(data.get("sheet"), "sheet", required=True)
        dataset = data.get("dataset")
        if dataset is not None and (
            isinstance(dataset, bool) or not isinstance(dataset, str | int)
        ):
            raise BadInput("'dataset' must be a dataset id (a string or an integer).")
        sheets = data.get("sheets")
        return cls(
            kind=kind,
            sheet=sheet,
            y=_names(data.get("y") or [], "y"),
            x=_name(data.get("x"), "x"),
            group=_name(data.get("group"), "group"),
            sheets=None if sheets is None else _names(sheets, "sheets"),
            options=_options(data.get("options", {})),
            dataset=dataset,
        )

    def to_dict(self) -> dict[str, Any]:
        """The API shape (lists, not tuples); JSON-safe."""
        return {
            "dataset": self.dataset,
            "kind": self.kind,
            "sheet": self.sheet,
            "x": self.x,
            "y": list(self.y),
            "group": self.group,
            "sheets": None if self.sheets is None else list(self.sheets),
            "options": dict(self.options),
        }

    def spec_hash(self) -> str:
        """sha256 of the canonical JSON: equal specs give equal hashes (a cache key)."""
        canonical = json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def sheet_names(self) -> tuple[str, ...]:
        """The sheets the renderers need in `frames`, in drawing order, without repeats."""
        names = [self.sheet, *(self.sheets or ())]
        return tuple(dict.fromkeys(names))

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


def _name(value: Any, what: str, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise BadInput(f"The chart spec needs {what!r} (a name from the dataset).")
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{what!r} must be a non-empty string, or null.")
    if len(value) > _MAX_NAME:
        raise BadInput(f"{what!r} is longer than {_MAX_NAME} characters.")
    return value


def _names(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise BadInput(f"{what!r} must be a list of names, e.g. [\"Australia\"].")
    if len(value) > _MAX_LIST:
        raise BadInput(f"{what!r} lists {len(value)} names; at most {_MAX_LIST} are accepted.")
    names = tuple(_name(v, f"{what}[{i}]", required=True) for i, v in enumerate(value))
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise BadInput(f"{what!r} lists {n!r} twice.")
        seen.add(n)
    return names  # type: ignore[return-value]


def _options(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadInput("'options' must be a JSON object.")
    out: dict[str, Any] = {}
    for key, v in value.items():
        rule = _OPTION_RULES.get(key)
        if rule is None:
            raise BadInput(
                f"Unknown chart option {key!r}; the options are {', '.join(OPTION_NAMES)}."
            )
        types, check, described = rule
        if v is None:
            continue  # null means "use the default"
        ok = isinstance(v, types) and not (bool not in types and isinstance(v, bool))
        if not ok or not check(v):
            raise BadInput(f"Option {key!r} must be {described}; got {v!r}.")
        out[key] = v
    return out
