"""What the sheets of one upload share, worked out once and remembered for the parse."""

from __future__ import annotations

import copy

import pandas as pd

from upload.coerce import Typed


class SheetsMemo:
    """What the sheets of one upload share, worked out once: the kind of each text cell
    (upload/layout.kinds_of) and the typed text columns. The sheets of a workbook often share
    a column of period labels ("1975:Q1", ... down each sheet): it is read once, and each sheet
    gets its own copy of the result. Only columns up to MAX_ROWS are kept, as the memo lives
    as long as the upload's parse."""

    MAX_ROWS = 10_000

    def __init__(self) -> None:
        self.cell_kinds: dict[str, int] = {}
        self._typed: dict[tuple, tuple[pd.Index, Typed]] = {}

    def recall(self, values: pd.Series, decimal: str) -> Typed | None:
        """A copy of what a column of the same cells, name and index was typed as, or None."""
        if len(values) > self.MAX_ROWS:
            return None
        found = self._typed.get(self._key(values, decimal))
        index = values.index
        if found is not None and type(found[0]) is type(index) and found[0].equals(index):
            return copy.deepcopy(found[1])
        return None

    def keep(self, values: pd.Series, decimal: str, typed: Typed) -> None:
        if len(values) <= self.MAX_ROWS:
            self._typed[self._key(values, decimal)] = (values.index, copy.deepcopy(typed))

    @staticmethod
    def _key(values: pd.Series, decimal: str) -> tuple:
        return values.name, decimal, tuple(values.tolist())
