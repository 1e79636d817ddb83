"""Does a new upload look like the next release of a family? `release_similarity` compares its
sheets with the family's newest release the way an analyst would: same sheets, same kind of
periods, the same columns, and values that agree where the periods overlap.

Score (0..1, ≥ 0.6 proposes the family) =
  0.2 · share of sheet names in common (of the larger set) +
  0.2 · 1 if every common sheet has the same index kind and frequency +
  0.3 · share of the family's series columns found in the upload (names folded) +
  0.3 · share of compared columns whose values agree (median relative difference ≤ 5%, i.e.
        within ordinary revisions) over their common periods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.results import json_safe
from analysis.vintages.frames import column_values, index_keys, series_columns
from analysis.vintages.labels import normalise_series_name

PROPOSE = 0.6
AGREE = 0.05


@dataclass(frozen=True)
class Similarity:
    score: float
    same_sheets: bool
    same_frequency: bool
    overlapping_columns: int
    values_agree: bool
    reasons: tuple[str, ...]
    columns_compared: int = 0
    columns_agreeing: int = 0

    @property
    def propose(self) -> bool:
        return self.score >= PROPOSE

    def to_dict(self) -> dict:
        return json_safe({**self.__dict__, "reasons": list(self.reasons),
                          "propose": self.propose})


def _kind(frame: pd.DataFrame) -> str:
    index = frame.index
    if isinstance(index, pd.PeriodIndex):
        return f"periods ({index.freqstr})"
    if isinstance(index, pd.DatetimeIndex):
        return f"dates ({_spacing(index)})"
    return "numbered rows"


_SPACINGS = ((1, 1, "daily"), (7, 7, "weekly"), (28, 31, "monthly"), (89, 92, "quarterly"),
             (181, 184, "half-yearly"), (365, 366, "yearly"))


def _spacing(index: pd.DatetimeIndex) -> str:
    """How far apart the dates usually are, in words (pandas' infer_freq warns about its
    return type changing, and its offsets say more than this comparison needs)."""
    if len(index) < 3:
        return "too few dates to tell"
    days = np.median(np.diff(np.sort(index_keys(index)))) / 86_400e9
    return next((name for lo, hi, name in _SPACINGS if lo <= round(days) <= hi), "irregular")


def _dated(frame: pd.DataFrame) -> bool:
    return isinstance(frame.index, (pd.PeriodIndex, pd.DatetimeIndex)) and frame.index.is_unique


def _agreement(new: pd.DataFrame, old: pd.DataFrame, pairs: list[tuple[str, str]]) -> list[bool]:
    """Per column pair, whether the values agree over the common periods (None: none common)."""
    if not (_dated(new) and _dated(old)) or type(new.index) is not type(old.index):
        return []
    if isinstance(new.index, pd.PeriodIndex) and new.index.freq != old.index.freq:
        return []
    _, i_new, i_old = np.intersect1d(index_keys(new.index), index_keys(old.index),
                                     assume_unique=True,
                                     return_indices=True)
    out = []
    for column_new, column_old in pairs:
        a = column_values(old, column_old)[i_old]
        b = column_values(new, column_new)[i_new]
        keep = np.isfinite(a) & np.isfinite(b) & (a != 0)
        if keep.sum():
            out.append(bool(np.median(np.abs(b[keep] / a[keep] - 1)) <= AGREE))
    return out


def release_similarity(candidate: Mapping[str, pd.DataFrame],
                       family_latest: Mapping[str, pd.DataFrame]) -> Similarity:
    """How much `candidate` (sheet name → cleaned frame) looks like the next release after
    `family_latest` (the family's newest release); see the module docstring for the score."""
    new_sheets, old_sheets = set(candidate), set(family_latest)
    common = sorted(new_sheets & old_sheets)
    sheet_share = len(common) / max(len(new_sheets | old_sheets), 1)
    kinds = [(_kind(candidate[s]), _kind(family_latest[s])) for s in common]
    dated = [s for s in common if _dated(family_latest[s])]
    same_frequency = bool(dated) and all(a == b for a, b in kinds)
    overlapping = family_total = 0
    agree: list[bool] = []
    for sheet in common:
        old_columns = series_columns(family_latest[sheet]) if sheet in dated else []
        new_by_key = {normalise_series_name(c): c for c in series_columns(candidate[sheet])}
        pairs = [(new_by_key[k], c) for c in old_columns
                 if (k := normalise_series_name(c)) in new_by_key]
        family_total += len(old_columns)
        overlapping += len(pairs)
        agree += _agreement(candidate[sheet], family_latest[sheet], pairs)
    column_share = overlapping / family_total if family_total else 0.0
    agree_share = sum(agree) / len(agree) if agree else 0.0
    score = 0.2 * sheet_share + 0.2 * same_frequency + 0.3 * column_share + 0.3 * agree_share
    reasons = (
        f"{len(common)} of {len(new_sheets | old_sheets)} sheet names in common"
        + (f" ({', '.join(common[:6])}{'…' if len(common) > 6 else ''})" if common else ""),
        ("the same kind of periods: " + ", ".join(sorted({_kind(family_latest[s])
                                                          for s in dated})))
        if same_frequency else "the periods differ in kind or frequency, or no sheet is dated: "
        + ("; ".join(f"{s}: {a} vs {b}" for s, (a, b) in zip(common, kinds, strict=True)
                     if a != b)[:200] or "no sheet in common"),
        f"{overlapping} of the family's {family_total} series columns found in the upload",
        f"values agree on {sum(agree)} of {len(agree)} columns compared over common periods"
        if agree else "no values could be compared (no common periods and columns)",
    )
    return Similarity(round(float(score), 4), bool(common) and new_sheets == old_sheets,
                      same_frequency, overlapping, bool(agree) and agree_share >= 0.5,
                      reasons, len(agree), sum(agree))
