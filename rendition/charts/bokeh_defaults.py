"""Bokeh's serialiser, without computing the defaults it then leaves out.

`json_item` writes each model's explicitly set properties (`properties_with_values(
include_defaults=False)`), but Bokeh 3 first computes the value of every property a model has —
each default copied, validated and themed — and only then drops those never set: two thirds of
a one-line chart's 27 ms, for a Plot's ~150 properties and ~60 models. It computes them to
refuse a model whose required property was never given (UnsetValueError); only properties
without a default can be such, so those are still asked, and the rest skipped.

`use_set_values_only()` replaces `HasProps.query_properties_with_values` process-wide (Bokeh
has no per-document switch), like `perform_document_validation` in render_bokeh; every other
call goes to Bokeh's own method. test_charts_bokeh compares the JSON of every kind with Bokeh's.
"""

from __future__ import annotations

from typing import Any

from bokeh.core.has_props import HasProps
from bokeh.core.property.descriptors import UnsetValueError
from bokeh.core.property.singletons import Undefined
from bokeh.core.property.wrappers import PropertyValueContainer

BOKEH_QUERY = HasProps.query_properties_with_values
_NO_DEFAULT: dict[type, frozenset[str]] = {}  # class -> properties whose default is Undefined


def use_set_values_only() -> None:
    HasProps.query_properties_with_values = _query_properties_with_values


def without_default(cls: type[HasProps]) -> frozenset[str]:
    """The properties of `cls` that have no default (a model must be given them)."""
    names = _NO_DEFAULT.get(cls)
    if names is None:
        overridden = cls._overridden_defaults()
        names = frozenset(
            name for name, prop in cls.properties(_with_props=True).items()
            if (overridden[name] if name in overridden else prop._default) is Undefined)
        _NO_DEFAULT[cls] = names
    return names


def _query_properties_with_values(self: HasProps, query, *, include_defaults: bool = True,
                                  include_undefined: bool = False) -> dict[str, Any]:
    """Bokeh's HasProps.query_properties_with_values (3.9), the default values it drops when
    include_defaults is False not computed."""
    if include_defaults:
        return BOKEH_QUERY(self, query, include_defaults=include_defaults,
                           include_undefined=include_undefined)
    themed_keys: set[str] = set()
    result: dict[str, Any] = {}
    keys = self.properties(_with_props=True)
    selected_keys = set(self._property_values.keys()) | set(self._unstable_default_values.keys())
    themed_values = self.themed_values()
    if themed_values is not None:
        themed_keys = set(themed_values.keys())
        selected_keys |= themed_keys
    must_be_set = without_default(type(self))
    for key in keys:
        if key not in selected_keys and key not in must_be_set:
            continue  # its default: left out below once computed
        descriptor = self.lookup(key)
        if not query(descriptor):
            continue
        try:
            value = descriptor.get_value(self)
        except UnsetValueError:
            if include_undefined:
                value = Undefined
            else:
                raise
        else:
            if key not in selected_keys:
                continue
            if key not in themed_keys:
                if (isinstance(value, PropertyValueContainer)
                        and key in self._unstable_default_values):
                    continue
        result[key] = value
    return result
