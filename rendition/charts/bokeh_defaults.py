"""Bokeh's property defaults, without the work Bokeh 3.9 repeats on every model: the same
models, the same JSON, two fifths of a one-line chart's time less.

- `json_item` writes each model's explicitly set properties (`properties_with_values(
  include_defaults=False)`), but Bokeh first computes the value of every property a model has —
  each default copied, validated and themed — and only then drops those never set (a Plot has
  ~150 properties, a chart ~60 models). It computes them to refuse a model whose required
  property was never given (UnsetValueError); only properties without a default can be such,
  so those are still asked, and the rest skipped.
- Each default asks its class for the defaults its subclasses override, which Bokeh merges
  along the class's MRO on every call; they are fixed when the class is made, so merged once.
- Each default asks the model for its theme's values with `getattr(self, "__themed_values__",
  None)`, an AttributeError through HasProps.__getattr__ for every model without a theme
  (ours); the model's own attributes are read instead.

`use_quick_defaults()` installs these on HasProps process-wide (Bokeh has no per-document
switch), like `perform_document_validation` in render_bokeh. test_charts_bokeh compares the
JSON of every kind, and of a themed document, with Bokeh's own.
"""

from __future__ import annotations

from typing import Any

import bokeh
from bokeh.core.has_props import HasProps
from bokeh.core.property.descriptors import UnsetValueError
from bokeh.core.property.singletons import Undefined
from bokeh.core.property.wrappers import PropertyValueContainer

BOKEH_QUERY = HasProps.query_properties_with_values
BOKEH_OVERRIDDEN = HasProps.__dict__["_overridden_defaults"]  # the classmethod object
BOKEH_THEMED = HasProps.themed_values
_NO_DEFAULT: dict[type, frozenset[str]] = {}  # class -> properties whose default is Undefined
_OVERRIDDEN: dict[type, dict[str, Any]] = {}  # class -> its merged overridden defaults


TESTED_BOKEH = "3.9."  # the releases whose internals these replacements were checked against


def use_quick_defaults(version: str = bokeh.__version__) -> bool:
    """Install the replacements when Bokeh is a release they were checked against (True);
    with any other release Bokeh keeps its own methods (pyproject allows newer ones)."""
    if not version.startswith(TESTED_BOKEH):
        return False
    HasProps.query_properties_with_values = _query_properties_with_values
    HasProps._overridden_defaults = classmethod(_overridden_defaults)
    HasProps.themed_values = _themed_values
    return True


def use_bokehs_own() -> None:
    """Bokeh's methods back (tests compare with them)."""
    HasProps.query_properties_with_values = BOKEH_QUERY
    HasProps._overridden_defaults = BOKEH_OVERRIDDEN
    HasProps.themed_values = BOKEH_THEMED


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


def _overridden_defaults(cls: type[HasProps]) -> dict[str, Any]:
    """HasProps._overridden_defaults, merged once per class (callers only read it)."""
    defaults = _OVERRIDDEN.get(cls)
    if defaults is None:
        defaults = _OVERRIDDEN[cls] = BOKEH_OVERRIDDEN.__func__(cls)
    return defaults


def _themed_values(self: HasProps) -> dict[str, Any] | None:
    """HasProps.themed_values: apply_theme sets `__themed_values__` on the model itself."""
    return vars(self).get("__themed_values__")


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
