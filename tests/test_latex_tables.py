"""pylatex tables: numbers rounded and aligned, long tables repeat their header across pages,
wide tables split, long names wrap or shorten so that every table fits the page."""

import re

import numpy as np
import pytest

from rendition.latex.compile import typeset
from rendition.latex.report import ReportDocument, build_report_tex
from rendition.latex.sections import DescribeSection, GrowthSection
from rendition.latex.tables import MAX_COLUMNS, facts_table, format_number, long_table
from tests.latex_fixtures import HOSTILE_ASCII, fixed4, pdf_pages, pdf_text, sig4, squash

PREAMBLE = (
    r"\documentclass[11pt,a4paper]{article}\usepackage[utf8]{inputenc}\usepackage[T1]{fontenc}"
    r"\usepackage{lmodern}\usepackage[a4paper,margin=2.2cm]{geometry}\usepackage{array}"
    r"\usepackage{booktabs}\usepackage{longtable}\usepackage{needspace}"
)


def standalone(latex: str):
    """The fragment in a document of its own: what the web's .tex export users get."""
    return typeset(PREAMBLE + r"\begin{document}" + latex + r"\end{document}")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (float("nan"), "—"),
        (float("inf"), "—"),
        (0.0, "0"),
        (3.0, "3"),
        (-2.0, "-2"),
        (123456789012.0, "123,456,789,012"),
        (77.4412, "77.44"),
        (9.99996, "10.00"),
        (-0.000123456, "-0.0001235"),  # tables print "−" (U+2212); format_number "-"
        (0.5, "0.5000"),
        (1234.5678, "1,235"),
        (123456.7, "123,457"),
        (1234567890.5, "1.235e+09"),
        (1234567890.0, "1,234,567,890"),
        (0.00001234, "1.234e-05"),
        (42, "42"),
        (np.int64(1234567), "1,234,567"),
        (np.float32(2.5), "2.500"),
        (np.float64(3.0), "3"),
        (True, "yes"),
        ("text", "text"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


def test_wide_tables_are_split_into_parts_that_repeat_the_first_column():
    headers = ["Period", *(f"S{i}" for i in range(20))]
    latex = long_table(headers, [["2020Q1", *range(20)]], [False] + [True] * 20, "Wide")
    specs = re.findall(r"\\begin\{longtable\}\{([^}]*)\}", latex)
    assert len(specs) == 3  # 20 series in parts of MAX_COLUMNS - 1
    assert all(len(spec.split()) <= MAX_COLUMNS for spec in specs)
    assert latex.count("Period&") == 3 * 2  # first head and continued head of each part
    assert "Wide (columns 2–8 of 21)" in latex and "Wide (columns 16–21 of 21)" in latex


def test_cells_are_escaped_and_printed_as_typed(tmp_path):
    latex = long_table(["Name", "Value"], [[h, 1.5] for h in HOSTILE_ASCII], [False, True], "T",
                       text_limit=100)
    assert r"\input{" not in latex and "^^5c" not in latex
    built = standalone(latex)
    text = squash(pdf_text(built.pdf, tmp_path, layout=False))
    for hostile in HOSTILE_ASCII:
        assert squash(hostile).replace("'", "’") in text


def test_long_names_shorten_and_wrap_so_the_table_fits_the_page(tmp_path):
    names = ["x" * 500, "Aggregate - 2005 Fixed Weights " * 10, "W" * 200, "short"]
    rows = [[n, 123456789, 1234.5678, -0.001234, 98765.4321, 1.5, 2.5, 3.5] for n in names]
    latex = long_table(["Column " * 20, "n", "a", "b", "c", "d", "e", "f"], rows,
                       [False] + [True] * 7, "Long names")
    built = standalone(latex)
    assert "Overfull" not in built.log, re.findall(r"Overfull.*", built.log)
    text = squash(pdf_text(built.pdf, tmp_path, layout=False))
    assert "x" * 39 + "..." in text and "x" * 40 not in text  # cut to 40 with … (read as ...)
    assert "123,456,789" in text and "1,235" in text


def test_numeric_headers_longer_than_their_numbers_wrap_instead_of_widening():
    series = {f"Aggregate - Dynamic Weights {i}": [1.0, 2.0] for i in range(7)}
    latex = long_table(["Period", *series], [["2020Q1", *(v[0] for v in series.values())]],
                       [False] + [True] * 7)
    assert latex.count(r"\multicolumn{1}{>{\raggedleft\arraybackslash}b{") == 7 * 2
    assert "Overfull" not in standalone(latex).log


def test_an_empty_table_says_so(tmp_path):
    text = pdf_text(standalone(long_table(["a", "b"], [], [False, True], "Empty")).pdf, tmp_path)
    assert "No rows." in text


def test_rows_must_match_the_header():
    with pytest.raises(ValueError, match="one entry per header"):
        long_table(["a", "b"], [[1]], [True, True])


def test_facts_table_keeps_our_markup_and_escapes_the_rest(tmp_path):
    from rendition.latex.escape import Latex

    latex = facts_table([("File", r"\input{/etc/passwd}"), ("Size", 1234567),
                         ("Bold", Latex(r"\textbf{ours}"))])
    assert r"\textbf{ours}" in latex and r"\textbackslash{}input\{/etc/passwd\}" in latex
    text = pdf_text(standalone(latex).pdf, tmp_path)
    assert r"\input{/etc/passwd}" in text and "1,234,567" in text


def test_a_5000_row_table_breaks_across_pages_with_its_header(tmp_path):
    rng = np.random.default_rng(7)
    means = rng.normal(100, 30, 5000)
    columns = [{"name": f"column {i:04d}", "type": "numeric", "count": 180, "missing": 0,
                "mean": float(means[i]), "std": 1.0, "min": 0.0, "q25": 1.0, "median": 2.0,
                "q75": 3.0, "max": 4.0, "skew": 0.1, "kurtosis": -0.2} for i in range(5000)]
    doc = ReportDocument(title="Long", sections=[
        DescribeSection({"sheet": "big", "n_rows": 180, "columns": columns})])
    tex, assets = build_report_tex(doc)
    built = typeset(tex, assets=assets, timeout=120)
    pages = pdf_pages(built.pdf, tmp_path)
    # two tables of 5,000 rows at roughly 50–60 rows per A4 page
    assert 2 * 5000 / 70 < pages < 2 * 5000 / 40
    per_page = pdf_text(built.pdf, tmp_path).split("\f")
    table_pages = [p for p in per_page if "column 0" in p]
    assert all(re.search(r"Column\s+n\s+missing\s+mean", p) or re.search(r"Column\s+min", p)
               for p in table_pages)
    assert sum("continued on the next page" in p for p in per_page) >= len(table_pages) - 2
    assert sum("(continued)" in p for p in per_page) >= len(table_pages) - 2
    # spot-check numbers against numpy-generated means
    text = "\n".join(per_page)
    for i in (0, 2500, 4999):
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"column {i:04d}"))
        assert sig4(means[i]) in line.split()
    assert f"Page 1 of {pages - 1}" in per_page[1]  # the title page is not numbered


def test_growth_with_many_series_shows_a_summary_and_recent_periods_in_parts(tmp_path):
    index = [f"{1975 + q // 4}Q{q % 4 + 1}" for q in range(181)]
    rng = np.random.default_rng(3)
    series = {f"Country {i}": [None] * 4 + list(rng.normal(3, 2, 177)) for i in range(24)}
    doc = ReportDocument(title="Growth", sections=[GrowthSection(
        {"sheet": "HPI", "periods": 4, "index": index, "series": series})])
    tex, assets = build_report_tex(doc)
    assert tex.count(r"\begin{longtable}") == 1 + 4  # summary + 24 series in parts of 7
    built = typeset(tex, assets=assets)
    assert "Overfull" not in built.log
    text = pdf_text(built.pdf, tmp_path)
    assert "2017Q2" in text and "2017Q1" not in text  # the last 12 periods only
    table = np.array([v[4:] for v in series.values()])  # one row per series
    columns = [table[:, -1], table.mean(axis=1), table.min(axis=1), table.max(axis=1)]
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("Country 5 "))
    assert line.split()[2:] == ["2020Q1", *(fixed4(c[5], c) for c in columns)]
    recent = next(ln for ln in text.splitlines() if ln.strip().startswith("2019Q4 "))
    tail = table[:7, -12:]  # the first part holds Country 0..6; decimals per column
    assert recent.split()[1:] == [fixed4(tail[i, -2], tail[i]) for i in range(7)]
