"""LaTeX reports with real pdflatex: right numbers, hostile text inert, failures explained."""

import subprocess
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from errors import Unprocessable
from rendition.latex import (
    CleaningLogSection,
    DescribeSection,
    ReportDocument,
    SummarySection,
    compile_pdf,
    escape_latex,
    render_report_pdf,
)
from rendition.latex.tables import format_number

DATA = Path(__file__).parent / "data"
HOSTILE = [
    r"\input{/etc/passwd}",
    r"$&%#_{}~^\ ",
    "^^5c^^5cinput{/etc/passwd}",
    "x" * 500,
    r"\catcode`\^=7",
    "Ελληνικά 中文 ü € 😀",
]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(
        next(line for line in info.stdout.splitlines() if line.startswith("Pages:")).split()[1]
    )


def hpi_describe() -> tuple[dict, pd.DataFrame]:
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    values = raw.iloc[2:, 1:].apply(pd.to_numeric, errors="coerce").dropna(axis=1, how="all")
    columns = []
    for name in values.columns:
        column = values[name].to_numpy(dtype=float)
        finite = column[np.isfinite(column)]
        columns.append(
            {
                "name": name,
                "type": "numeric",
                "count": int(finite.size),
                "missing": int(column.size - finite.size),
                "mean": float(np.mean(finite)),
                "std": float(np.std(finite, ddof=1)),
                "min": float(finite.min()),
                "q25": float(np.percentile(finite, 25)),
                "median": float(np.median(finite)),
                "q75": float(np.percentile(finite, 75)),
                "max": float(finite.max()),
                "skew": None,
                "kurtosis": None,
            }
        )
    return {"kind": "describe", "sheet": "HPI", "n_rows": len(values), "columns": columns}, values


def test_describe_numbers_in_the_pdf_equal_numpy(tmp_path):
    result, values = hpi_describe()
    doc = ReportDocument(title="HPI", quartile_version="test", sections=[DescribeSection(result)])
    text = pdf_text(render_report_pdf(doc), tmp_path)
    for country in ("Australia", "Canada", "Japan"):
        mean = float(np.nanmean(values[country].to_numpy(dtype=float)))
        line = next(line for line in text.splitlines() if line.strip().startswith(country))
        assert format_number(mean) in line.split()
    assert "Page 1 of" in text


def test_hostile_names_are_printed_not_executed(tmp_path):
    marker = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    names = [*HOSTILE, rf"\write18{{touch {marker}}}", rf"\immediate\write18{{touch {marker}}}"]
    dataset = {
        "name": names[0],
        "sha256": "0" * 64,
        "size": 1,
        "format": "csv",
        "created": "today",
        "sheets": [{"name": n, "n_rows": 1, "n_cols": 1, "index": None} for n in names],
    }
    doc = ReportDocument(
        title=names[-1],
        author=names[1],
        quartile_version="test",
        dataset=dataset,
        sections=[
            SummarySection(dataset),
            CleaningLogSection([{"sheet": n, "step": n, "detail": n} for n in names]),
            DescribeSection(
                {
                    "sheet": names[0],
                    "n_rows": 1,
                    "columns": [
                        {
                            "name": n,
                            "type": "categorical",
                            "count": 1,
                            "missing": 0,
                            "unique": 1,
                            "top": n,
                            "freq": 1,
                        }
                        for n in names
                    ],
                }
            ),
        ],
    )
    text = pdf_text(render_report_pdf(doc), tmp_path)
    assert "root:x:0:0" not in text
    assert not marker.exists()
    assert r"\input{/etc/passwd}" in text  # shown literally
    assert "could not be typeset" in text  # the Greek/CJK/emoji fallback is stated


def test_raw_tex_cannot_read_or_shell_out_even_unescaped(tmp_path):
    marker = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    tex = (
        r"\documentclass{article}\begin{document}"
        rf"\immediate\write18{{touch {marker}}}"
        r"\input{/etc/passwd}\end{document}"
    )
    try:
        text = pdf_text(compile_pdf(tex, timeout=20), tmp_path)
    except Unprocessable as exc:
        text = exc.message
    assert "root:x:0:0" not in text
    assert not marker.exists()


def test_a_long_table_breaks_across_pages_with_its_header(tmp_path):
    columns = [
        {
            "name": f"column {i}",
            "type": "numeric",
            "count": i,
            "missing": 0,
            "mean": i * 1.5,
            "std": 1.0,
            "min": 0.0,
            "q25": 1.0,
            "median": 2.0,
            "q75": 3.0,
            "max": 4.0,
        }
        for i in range(5000)
    ]
    doc = ReportDocument(
        title="Long",
        sections=[DescribeSection({"sheet": "big", "n_rows": 5000, "columns": columns})],
    )
    pdf = render_report_pdf(doc, timeout=120)
    pages = pdf_pages(pdf, tmp_path)
    assert 100 < pages < 400
    text = pdf_text(pdf, tmp_path)
    per_page = text.split("\f")
    with_header = [p for p in per_page if "Column" in p and "median" in p]
    assert len(with_header) > 50  # the header repeats on the continuation pages
    assert "continued on the next page" in text


def test_a_failing_source_quotes_the_log():
    with pytest.raises(Unprocessable) as caught:
        compile_pdf(r"\documentclass{article}\begin{document}\undefinedmacro\end{document}")
    assert "Undefined control sequence" in caught.value.message
    assert caught.value.code == "latex_failed"


def test_a_looping_source_times_out_quickly():
    with pytest.raises(Unprocessable, match="took longer than 3 s") as caught:
        compile_pdf(r"\documentclass{article}\def\x{\x}\begin{document}\x\end{document}", timeout=3)
    assert caught.value.code == "latex_timeout"


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_leaves_no_active_characters(text):
    escaped = escape_latex(text)
    for command in ("\\input", "\\catcode", "\\write"):
        assert command not in escaped
    assert "^^" not in escaped
    stripped = escaped.replace("\\{", "").replace("\\}", "").replace("{}", "")
    assert "{" not in stripped and "}" not in stripped
