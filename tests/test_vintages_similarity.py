"""Whether an upload looks like the next release of a family (release_similarity)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.vintages import PROPOSE, release_similarity
from tests.stats_fixtures import case_shiller, housing
from tests.vintages_fixtures import cleaned


def test_the_2020q1_release_is_proposed_for_the_2011q2_family():
    result = release_similarity(cleaned("2020Q1"), cleaned("2011Q2"))
    assert result.same_sheets and result.same_frequency and result.values_agree
    # Each of HPI/RHPI/PDI/RPDI: 19 of 2011Q2's 20 columns by name (OECD-19 was renamed).
    assert result.overlapping_columns == 4 * 19
    assert PROPOSE <= result.score <= 1 and result.to_dict()["propose"] is True
    assert result.reasons[0] == "5 of 5 sheet names in common (HPI, Note, PDI, RHPI, RPDI)"
    assert result.reasons[2] == "76 of the family's 80 series columns found in the upload"


def test_the_house_table_is_not_proposed_for_the_dallas_family():
    result = release_similarity({"HousingPreferences": housing()}, cleaned("2011Q2"))
    assert result.score < PROPOSE and result.score == 0
    assert not (result.same_sheets or result.same_frequency or result.values_agree)
    assert result.to_dict()["propose"] is False


def test_same_shape_but_other_numbers_scores_below_a_true_release():
    book = cleaned("2011Q2")
    rng = np.random.default_rng(3)
    other = {name: frame.apply(lambda c: c * rng.uniform(2, 3)) if name != "Note" else frame
             for name, frame in book.items()}
    true_release = release_similarity(cleaned("2020Q1"), book)
    impostor = release_similarity(other, book)
    assert impostor.values_agree is False and impostor.columns_agreeing == 0
    assert impostor.score < true_release.score
    monthly = {"HPI": pd.DataFrame({"Australia": [1.0, 2.0, 3.0]},
                                   index=pd.period_range("2011-01", periods=3, freq="M"))}
    assert release_similarity(monthly, book).same_frequency is False


def test_a_monthly_dated_sheet_and_its_earlier_release_are_similar():
    full = case_shiller()
    earlier = full.iloc[:-12] * 0.999  # a year fewer, slightly revised
    result = release_similarity({"CSUSHPINSA": full}, {"CSUSHPINSA": earlier})
    assert result.same_sheets and result.same_frequency and result.values_agree
    assert result.score == 1.0
    assert result.reasons[1] == "the same kind of periods: dates (monthly)"
