"""Helpers for the LaTeX report tests: read PDFs back with poppler, compute statistics
independently (numpy/pandas, never the app's own code), and the hostile strings we try."""

from __future__ import annotations

import math
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).parent / "data"
WORKBOOK = DATA / "2020Q1.xlsx"
SHEETS = ("HPI", "RHPI", "PDI", "RPDI")

HOSTILE_ASCII = [
    r"\input{/etc/passwd}",
    r"\include{/etc/passwd}",
    r"$&%#_{}~^\ ",
    r"\catcode`\^=7 x",
    "^^5cinput{/etc/passwd}",
    r"\end{longtable}\\",
    r"a \\[2cm] b & c",
    "[opt] *star -- em---dash ``quoted'' ,,low << >> !` ?`",
    r"\def\x{\x}\x",
    r"\csname input\endcsname{/etc/passwd}",
    r"\openin5=/etc/passwd",
    "100% of #1 costs $5 & more_than {half}",
]
UNICODE = ["Müller & Söhne €", "Ελληνικά", "中文", "emoji 😀 ok", "Łódź Øresund Ærø"]
CONTROL = ["bell\x07 nul\x00 esc\x1b[31m del\x7f", "rtl \u202eevil\u202c", "lone \ud800 half"]


def write18_marker() -> Path:
    """A unique /tmp path that must not exist after a build that tried to `touch` it."""
    return Path(f"/tmp/quartile-pwned-{uuid.uuid4().hex}")


def pdf_text(pdf: bytes, tmp_path: Path, layout: bool = True) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    line = next(ln for ln in info.stdout.splitlines() if ln.startswith("Pages:"))
    return int(line.split()[1])


def squash(text: str) -> str:
    """pdftotext output with all whitespace removed (line and column breaks vary)."""
    return "".join(text.split())


def sig4(x: float) -> str:
    """Four significant digits with thousands separators, written independently of the code
    under test (whole numbers as integers, all integer digits from 1,000 up, scientific below
    1e-4 and from 1e9), with the minus sign (U+2212) tables print."""
    if float(x).is_integer() and abs(x) < 1e15:
        text = f"{int(x):,}"
    elif abs(x) < 1e-4 or abs(x) >= 1e9:
        text = f"{x:.3e}"
    elif abs(x) >= 1000:
        text = f"{x:,.0f}"
    else:
        decimals = max(0, 3 - math.floor(math.log10(abs(float(f"{x:.3e}")))))
        text = f"{x:,.{decimals}f}"
    return text.replace("-", "\u2212", 1) if text.startswith("-") else text


def fixed4(x: float, column) -> str:
    """`x` with the decimals that give the column's largest magnitude four significant
    digits (tables of one scale line up their decimal points)."""
    largest = max(abs(v) for v in column)
    text = f"{x:,.{max(0, 3 - math.floor(math.log10(largest)))}f}"
    return text.replace("-", "\u2212", 1) if text.startswith("-") else text


def sheet_values(sheet: str) -> pd.DataFrame:
    """A Dallas Fed sheet as numbers: countries as columns, the empty 2nd row dropped."""
    raw = pd.read_excel(WORKBOOK, sheet_name=sheet, header=0, engine="calamine")
    values = raw.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    values = values.dropna(how="all").dropna(axis=1, how="all")
    values.index = raw.iloc[values.index, 0].astype(str)
    return values


def describe_dict(sheet: str) -> dict:
    """The describe result shape, every statistic computed here with numpy."""
    values = sheet_values(sheet)
    columns = []
    for name in values.columns:
        column = values[name].to_numpy(dtype=float)
        x = column[np.isfinite(column)]
        n = x.size
        m = x.mean()
        d = x - m
        m2, m3, m4 = (d**2).mean(), (d**3).mean(), (d**4).mean()
        g1, g2 = m3 / m2**1.5, m4 / m2**2 - 3
        columns.append({
            "name": name, "type": "numeric", "dtype": "float64",
            "count": int(n), "missing": int(column.size - n),
            "mean": float(m), "std": float(x.std(ddof=1)),
            "min": float(x.min()), "q25": float(np.percentile(x, 25)),
            "median": float(np.median(x)), "q75": float(np.percentile(x, 75)),
            "max": float(x.max()),
            "skew": float(math.sqrt(n * (n - 1)) / (n - 2) * g1),
            "kurtosis": float(((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3))),
            "unique": None, "top": None, "freq": None,
        })
    return {"kind": "describe", "sheet": sheet, "n_rows": len(values), "columns": columns}


def pdf_page_images(pdf: bytes, tmp_path: Path, dpi: int = 50) -> list[bytes]:
    """Every page as PNG bytes (poppler's pdftoppm): two PDFs that render alike give equal
    lists, whatever their creation dates and IDs."""
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    (folder / "in.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(folder / "in.pdf"),
                    str(folder / "page")], check=True)
    return [path.read_bytes() for path in sorted(folder.glob("page-*.png"))]
