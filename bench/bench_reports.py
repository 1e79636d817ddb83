"""A describe report for all four data sheets of 2020Q1 vs a bare pdflatex run on the same .tex.

Target (issue 9): render_report_pdf (Python build + hardened compile) ≤ 1.3 × bare pdflatex
with the same number of passes on the same .tex (the book's prototype: about 3.4 s for one
sheet). The last row is what a user waits for: POST /api/v1/reports (a new title each time, so
it is built) until GET says done, through the job queue (embedded engine), numbers included.
The bare run uses the same command line and environment in its own temporary directory, so the
ratio measures what Quartile adds: building the source, the temporary directory, the log
checks between passes.

The second table (issue 19) is the typesetting of one describe section (sheet RHPI) as it was
(plain: each pass reads the preamble) and as the app runs it now (the preamble precompiled into
a format, the first pass a draft), pass by pass, and what building the format costs once; and
with the .aux files of an earlier report of the same shape seeded (one pass when they fit), and
that pass run by a pdflatex started ahead (rendition/latex/standby.py).
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.table import print_table, row, timings
from rendition.latex import (
    DescribeSection,
    FormatCache,
    ReportDocument,
    build_report_tex,
    render_report_pdf,
)
from rendition.latex.aux_seeds import AuxSeeds
from rendition.latex.compile import latex_environment, pdflatex_command, typeset
from rendition.latex.formats import build_format, fixed_preamble

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "2020Q1.xlsx"
SHEETS = ("HPI", "RHPI", "PDI", "RPDI")
REPEAT = 7
RATIO_TARGET = 1.3
FORMAT_TARGET = 0.4  # issue 19: the report preamble precompiled, ≤ 40 % of the plain typeset


def describe(sheet: str) -> dict:
    """The describe result shape, computed here with pandas (countries as columns)."""
    raw = pd.read_excel(DATA, sheet_name=sheet, header=0, engine="calamine")
    values = raw.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    values = values.dropna(how="all").dropna(axis=1, how="all")
    summary = values.describe().T
    columns = [
        {
            "name": str(name), "type": "numeric", "dtype": "float64",
            "count": int(s["count"]), "missing": int(len(values) - s["count"]),
            "mean": float(s["mean"]), "std": float(s["std"]), "min": float(s["min"]),
            "q25": float(s["25%"]), "median": float(s["50%"]), "q75": float(s["75%"]),
            "max": float(s["max"]), "skew": float(values[name].skew()),
            "kurtosis": float(values[name].kurt()),
        }
        for name, s in summary.iterrows()
    ]
    return {"kind": "describe", "sheet": sheet, "n_rows": len(values), "columns": columns}


def bare_pdflatex(tex: str, passes: int, command: list[str] | None = None) -> None:
    """pdflatex alone: same command, environment and pass count, nothing else."""
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        (work / "report.tex").write_text(tex, encoding="utf-8")
        for _ in range(passes):
            subprocess.run(command or pdflatex_command(), cwd=work, env=latex_environment(work),
                           stdin=subprocess.DEVNULL, capture_output=True, check=True)


def typeset_with_and_without_format() -> None:
    """Issue 19: one describe section, plain vs precompiled preamble (+ draft first pass)."""
    doc = ReportDocument(title="2020Q1: describe RHPI", quartile_version="bench",
                         sections=[DescribeSection(describe("RHPI"))])
    tex, assets = build_report_tex(doc)
    with tempfile.TemporaryDirectory() as temp:
        formats = FormatCache(Path(temp))
        seeds = AuxSeeds.beside(formats, "bench")
        preloaded = formats.format_for(tex)
        if preloaded is None:
            print("no format could be built (see the log): nothing to compare")
            return
        building = timings(lambda: build_format(fixed_preamble(tex), Path(temp) / "x.fmt"), 3,
                           warmup=0)
        with_format = pdflatex_command(preloaded)
        draft = [with_format[0], "-draftmode", *with_format[1:]]
        if typeset(tex, assets=assets, formats=formats, seeds=seeds).passes != 2 or \
                typeset(tex, assets=assets, formats=formats, seeds=seeds).passes != 1:
            print("the seeded build did not take one pass: see the log")
        plain, fast, seeded, ahead, one_plain, one_format, one_draft = [], [], [], [], [], [], []
        for _ in range(REPEAT * 2):  # interleaved, so that machine load hits all alike
            plain += timings(lambda: typeset(tex, assets=assets), 1, warmup=0)
            fast += timings(lambda: typeset(tex, assets=assets, formats=formats,
                                            draft_first=True), 1, warmup=0)
            seeded += timings(lambda: typeset(tex, assets=assets, formats=formats,
                                              draft_first=True, seeds=seeds), 1, warmup=0)
            time.sleep(0.3)  # as between two reports: the standby loads its format meanwhile
            ahead += timings(lambda: typeset(tex, assets=assets, formats=formats,
                                             draft_first=True, seeds=seeds, standby=True), 1,
                             warmup=0)
            one_plain += timings(lambda: bare_pdflatex(tex, 1), 1, warmup=0)
            one_format += timings(lambda: bare_pdflatex(tex, 1, with_format), 1, warmup=0)
            one_draft += timings(lambda: bare_pdflatex(tex, 1, draft), 1, warmup=0)
    print_table([
        row("typeset RHPI, plain (2 passes, as before)", plain, None),
        row("typeset RHPI, format + draft first pass (2 passes)", fast,
            FORMAT_TARGET * statistics.median(plain)),
        row("typeset RHPI, format + seeded aux (1 pass)", seeded, None),
        row("  the same, pass run by a standby pdflatex", ahead, None),
        row("  one pass, plain", one_plain, None),
        row("  one pass, format", one_format, None),
        row("  one draft pass, format", one_draft, None),
        row("build the format (once per machine and template)", building, None),
    ])
    print(f"typeset with the format: {statistics.median(fast) / statistics.median(plain):.2f} "
          f"of plain (target ≤ {FORMAT_TARGET})")


def http_client():
    """The app on embedded defaults in a temporary directory, with 2020Q1 uploaded."""
    from bench.bench_http import make_client

    client = make_client()
    with open(DATA, "rb") as handle:
        dataset = client.post("/api/v1/datasets", content_type="multipart/form-data",
                              data={"file": (handle, "2020Q1.xlsx")}).get_json()
    return client, dataset


def http_report(client, dataset: dict, title: str) -> None:
    body = {"dataset": dataset["id"], "title": title,
            "sections": [{"type": "describe", "sheets": list(SHEETS)}]}
    report = client.post("/api/v1/reports", json=body).get_json()
    while (status := client.get(f"/api/v1/reports/{report['id']}").get_json()["status"]) \
            not in ("done", "failed"):
        time.sleep(0.005)
    if status != "done":
        raise RuntimeError(f"the report failed: {report}")


def main() -> None:
    doc = ReportDocument(title="2020Q1: describe", quartile_version="bench",
                         sections=[DescribeSection(describe(s)) for s in SHEETS])
    tex, assets = build_report_tex(doc)
    passes = typeset(tex, assets=assets).passes
    build = timings(lambda: build_report_tex(doc), REPEAT)
    client, dataset = http_client()
    http_report(client, dataset, "warm-up")
    ours, bare, http = [], [], []
    for n in range(REPEAT):  # interleaved, so that machine load hits all alike
        ours += timings(lambda: render_report_pdf(doc), 1, warmup=0)
        bare += timings(lambda: bare_pdflatex(tex, passes), 1, warmup=0)
        http += timings(lambda n=n: http_report(client, dataset, f"run {n}"), 1, warmup=0)
    limit = RATIO_TARGET * statistics.median(bare)
    print_table([
        row(f"build_report_tex (4 sheets, {len(tex) // 1024} KiB of .tex)", build, None),
        row(f"render_report_pdf ({passes} passes)", ours, limit),
        row(f"bare pdflatex, same .tex, {passes} passes", bare, None),
        row("POST /api/v1/reports → done, as a job (HTTP, embedded)", http, limit),
    ])
    ratio = statistics.median(ours) / statistics.median(bare)
    print(f"ratio render/bare: {ratio:.2f} (target ≤ {RATIO_TARGET}); "
          f"the book's prototype took about 3400 ms for one sheet")
    print()
    typeset_with_and_without_format()


if __name__ == "__main__":
    main()
