"""N quarterly releases of the Dallas Fed International House Price Database, as .xlsx files.

Made from the two real workbooks in tests/data (2011Q2 and 2020Q1) for benchmarks (and anyone
who needs a family of releases): release k of N ends N − 1 − k quarters before 2020Q1, so 36
releases run from 2011Q2 to 2020Q1. Each has the real workbook's shape: a 'Note' sheet and the
sheets HPI, RHPI, PDI and RPDI with the country names in row 1, a blank row 2, quarters "1975:Q1"
in column A, and a blank column before the aggregates. What changes from release to release:

- the values are 2020Q1's, with the newest eight quarters of each release revised by up to ~1%
  (the younger the quarter, the larger), so consecutive releases revise one another;
- until release N/3 the columns are 2011Q2's (19 countries and "OECD-19"); from then on the five
  newer countries are added and "OECD-19" is split into the two aggregates of 2020Q1;
- "US" is spelt "U.S." in every third release, and "S. Africa" is "South Africa" in the second
  half;
- optionally the first and last releases are the real 2011Q2 and 2020Q1 files, copied.

    .venv/bin/python -m bench.dallas_releases OUT_DIR [N]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from python_calamine import CalamineWorkbook

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SHEETS = ("HPI", "RHPI", "PDI", "RPDI")
AGGREGATES = ("Aggregate - 2005 Fixed Weights", "Aggregate - Dynamic Weights")
NEWER = ("Luxembourg", "S. Africa", "Croatia", "Israel", "Slovenia")
REVISED_QUARTERS = 8


def _sheet(book: CalamineWorkbook, name: str) -> pd.DataFrame:
    rows = book.get_sheet_by_name(name).to_python()
    header = [str(h).strip() for h in rows[0]]
    body = [r for r in rows[1:] if isinstance(r[0], str) and ":Q" in r[0]]
    frame = pd.DataFrame([r[1:] for r in body], columns=header[1:])
    frame = frame.loc[:, [c for c in frame.columns if c]].apply(pd.to_numeric, errors="coerce")
    frame.index = pd.PeriodIndex([r[0].replace(":", "") for r in body], freq="Q")
    return frame


def source() -> tuple[dict[str, pd.DataFrame], list[list[str]]]:
    """2020Q1's four data sheets, and its Note sheet's cells."""
    book = CalamineWorkbook.from_path(str(DATA / "2020Q1.xlsx"))
    return {s: _sheet(book, s) for s in SHEETS}, book.get_sheet_by_name("Note").to_python()


def release_frame(truth: pd.DataFrame, k: int, count: int,
                  rng: np.random.Generator) -> pd.DataFrame:
    """Release k of `count` of one sheet (see the module docstring)."""
    end = truth.index[-1] - (count - 1 - k)
    frame = truth.loc[:end].copy()
    ages = np.arange(len(frame))[::-1]  # 0 for the newest quarter
    noise = rng.normal(0, 0.004, frame.shape) * np.clip(REVISED_QUARTERS - ages, 0, None)[:, None] \
        / REVISED_QUARTERS
    frame = frame * (1 + noise)
    countries = [c for c in truth.columns if c not in AGGREGATES]
    if k < count // 3:
        frame = frame[[c for c in countries if c not in NEWER] + [AGGREGATES[0]]]
        frame = frame.rename(columns={AGGREGATES[0]: "OECD-19"})
    renames = {}
    if k % 3 == 1:
        renames["US"] = "U.S."
    if k >= count // 2:
        renames["S. Africa"] = "South Africa"
    return frame.rename(columns=renames)


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame], note: list[list[str]]) -> None:
    book = xlsxwriter.Workbook(str(path))
    first = book.add_worksheet("Note")
    for r, row in enumerate(note):
        first.write_row(r, 0, [c for c in row])
    for name, frame in sheets.items():
        sheet = book.add_worksheet(name)
        columns = list(frame.columns)
        split = next((i for i, c in enumerate(columns) if c in AGGREGATES or c == "OECD-19"),
                     len(columns))
        header = ["", *columns[:split], "", *columns[split:]]
        sheet.write_row(0, 0, header)
        quarters = [f"{p.year}:Q{p.quarter}" for p in frame.index]
        values = frame.to_numpy()
        for r, quarter in enumerate(quarters):
            row = values[r]
            cells = [None if np.isnan(v) else float(v) for v in row]
            sheet.write_string(r + 2, 0, quarter)
            for c, value in enumerate(cells[:split]):
                if value is not None:
                    sheet.write_number(r + 2, c + 1, value)
            for c, value in enumerate(cells[split:]):
                if value is not None:
                    sheet.write_number(r + 2, split + 2 + c, value)
    book.close()


def make_releases(out_dir: str | Path, count: int = 36, seed: int = 14,
                  real_ends: bool = True) -> list[Path]:
    """Write `count` workbooks named by release ("2011Q2.xlsx" …) into `out_dir`; return their
    paths oldest first. Files already there are reused (same name, same seed, same content)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    truth, note = source()
    last = truth["HPI"].index[-1]
    paths = []
    rng = np.random.default_rng(seed)
    for k in range(count):
        label = str(last - (count - 1 - k))
        path = out / f"{label}.xlsx"
        paths.append(path)
        sheets = {s: release_frame(truth[s], k, count, rng) for s in SHEETS}
        if path.exists():
            continue
        real = DATA / f"{label}.xlsx"
        if real_ends and k in (0, count - 1) and real.exists():
            shutil.copyfile(real, path)
        else:
            write_workbook(path, sheets, note)
    return paths


if __name__ == "__main__":
    made = make_releases(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 36)
    print(f"{len(made)} workbooks in {sys.argv[1]}: {made[0].name} … {made[-1].name}")
