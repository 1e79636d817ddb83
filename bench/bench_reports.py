"""A describe report for all four data sheets of 2020Q1 vs a bare pdflatex run on the same .tex.

Target (issue 9): total time ≤ 1.3 × bare pdflatex with the same number of passes (the book's
prototype: about 3.4 s for one sheet).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.table import print_table, row
from rendition.latex import DescribeSection, ReportDocument, build_report_tex, render_report_pdf
from rendition.latex.compile import latex_environment, pdflatex_command

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "2020Q1.xlsx"


def describe(sheet: str) -> dict:
    raw = pd.read_excel(DATA, sheet_name=sheet, header=0, engine="calamine")
    values = raw.iloc[2:, 1:].apply(pd.to_numeric, errors="coerce").dropna(axis=1, how="all")
    cols = []
    for name in values.columns:
        v = values[name].to_numpy(float)
        v = v[np.isfinite(v)]
        cols.append(
            {
                "name": name,
                "type": "numeric",
                "count": int(v.size),
                "missing": 0,
                "mean": float(v.mean()),
                "std": float(v.std(ddof=1)),
                "min": float(v.min()),
                "q25": float(np.percentile(v, 25)),
                "median": float(np.median(v)),
                "q75": float(np.percentile(v, 75)),
                "max": float(v.max()),
                "skew": 0.0,
                "kurtosis": 0.0,
            }
        )
    return {"kind": "describe", "sheet": sheet, "n_rows": len(values), "columns": cols}


def bare_pdflatex(tex: str, passes: int) -> float:
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        (work / "report.tex").write_text(tex)
        started = time.perf_counter()
        for _ in range(passes):
            subprocess.run(
                pdflatex_command(),
                cwd=work,
                env=latex_environment(work),
                capture_output=True,
                check=True,
            )
        return (time.perf_counter() - started) * 1000


def main() -> None:
    doc = ReportDocument(
        title="2020Q1 describe",
        quartile_version="bench",
        sections=[DescribeSection(describe(s)) for s in ("HPI", "RHPI", "PDI", "RPDI")],
    )
    tex, _ = build_report_tex(doc)
    ours, bare = [], []
    for _ in range(5):
        started = time.perf_counter()
        render_report_pdf(doc)
        ours.append((time.perf_counter() - started) * 1000)
        bare.append(bare_pdflatex(tex, passes=2))
    rows = [
        row("render_report_pdf (build + 2 pdflatex passes)", ours, None),
        row("bare pdflatex, same .tex, 2 passes", bare, None),
    ]
    print_table(rows)
    ratio = np.median(ours) / np.median(bare)
    print(f"ratio: {ratio:.2f} (target ≤ 1.3); book prototype ≈ 3400 ms for one sheet")


if __name__ == "__main__":
    main()
