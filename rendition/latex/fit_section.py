"""The report section of a fitted model (issue 18): the model, the fit, solutions, the plot.

Reads the fit's API dict (analysis.equations.fitting) defensively, as every section renderer
does; user text (the model, column names, the solve equation) is escaped. The plot is the
fit's PNG, included like a chart's (`include_image`, shared with sections._chart).
"""

from __future__ import annotations

from dataclasses import dataclass

from errors import BadInput
from rendition.latex.escape import breakable, shorten
from rendition.latex.tables import MISSING, facts_table, long_table

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


@dataclass(frozen=True)
class FitSection:
    result: dict
    image: bytes | None = None  # the PNG plot: data, fitted curve, band, solutions
    title: str = ""


def include_image(image: bytes, kind: str, assets: dict[str, bytes], what: str) -> str:
    """LaTeX that shows `image` (PNG or PDF bytes) across the page; added to `assets`."""
    kind = str(kind).lower()
    if kind not in MAGIC:
        raise BadInput(f"{what} must be a PNG or PDF image, not {kind!r}.")
    if not image.startswith(MAGIC[kind]):
        raise BadInput(f"{what} is not a valid {kind.upper()} image.")
    name = f"chart-{len(assets) + 1}.{kind}"
    assets[name] = image
    return (
        r"\begin{center}" "\n"
        r"\includegraphics[width=\linewidth,height=0.62\textheight,keepaspectratio]{" + name + "}"
        "\n" r"\end{center}" "\n"
    )


def render_fit(section: FitSection, assets: dict[str, bytes]) -> tuple[str, str]:
    r = section.result if isinstance(section.result, dict) else {}
    model = str(r.get("model") or MISSING)
    body = ("Nonlinear least squares on sheet " + breakable(r.get("sheet") or MISSING)
            + r": \texttt{" + breakable(model) + "}.\n\n")
    t = r.get("t") if isinstance(r.get("t"), dict) else {}
    if t.get("description"):
        body += breakable(t["description"]) + "\n\n"
    body += facts_table([
        ("Observations", r.get("n")), ("Residual SD", r.get("residual_sd")),
        ("R²", r.get("r_squared")), ("AIC", r.get("aic")),
        ("Evaluations", r.get("evaluations")), ("Converged", r.get("message")),
        ("Fitted model", r.get("fitted_text")),
    ], label_em=9.0)
    parameters = [p for p in r.get("parameters") or [] if isinstance(p, dict)]
    body += long_table(
        ["Parameter", "Estimate", "Std. error", "95% CI low", "95% CI high"],
        [[p.get("name"), p.get("estimate"), p.get("std_error"), p.get("ci_low"),
          p.get("ci_high")] for p in parameters],
        [False, True, True, True, True], "Parameters")
    solve = r.get("solve") if isinstance(r.get("solve"), dict) else None
    if solve:
        body += long_table(
            [f"Solution of {shorten(solve.get('equation') or '', 60)}", "Value", "Period",
             "Fitted value"],
            [[(s.get("exact") or {}).get("text") or "numeric", s.get("value"), s.get("label"),
              s.get("fitted")] for s in solve.get("solutions") or [] if isinstance(s, dict)],
            [False, True, False, True], "Solutions")
    derived = [d for d in r.get("derived") or [] if isinstance(d, dict)]
    if derived:
        body += long_table(
            ["Quantity", "Value", "Std. error", "95% CI low", "95% CI high"],
            [[d.get("expression"), d.get("value"), d.get("std_error"), d.get("ci_low"),
              d.get("ci_high")] for d in derived],
            [False, True, True, True, True], "Derived quantities")
    if section.image:
        body += include_image(section.image, "png", assets, "The fit's plot")
    return section.title or f"Fit: {shorten(model, 60)}", body
