"""A report rebuilt on the latest release: its columns and charts follow the series mapping, it
gains a "What changed" section for the series it uses, and every PDF ends with provenance."""

from __future__ import annotations

import subprocess

from store.db import db
from store.models import Report
from tests.stack_fixtures import wait_for
from tests.test_families_api import small_family


def _done(client, report_id: str) -> dict:
    return wait_for(lambda: (b := client.get(f"/api/v1/reports/{report_id}").get_json())[
        "status"] in ("done", "failed") and b, 120, f"report {report_id}")


def _pdf_text(client, report: dict, tmp_path) -> str:
    pdf = tmp_path / f"{report['id']}.pdf"
    response = client.get(report["pdf"])
    pdf.write_bytes(response.data)
    response.close()
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_a_report_rebuilt_on_the_latest_release_says_what_changed(app, client, tmp_path):
    result = small_family(client)
    ids = {d["label"]: d["dataset"] for d in result["datasets"]}
    meta = client.get(f"/api/v1/datasets/{ids['2020Q2']}").get_json()
    sheet = meta["sheets"][0]["name"]
    chart = client.post("/api/v1/charts", json={"dataset": ids["2020Q2"], "kind": "line",
                                                "sheet": sheet, "y": ["US"]}).get_json()
    created = client.post("/api/v1/reports", json={
        "dataset": ids["2020Q2"], "title": "House prices",
        "sections": [{"type": "growth", "sheet": sheet, "columns": ["Canada", "US"],
                      "periods": 1}, {"type": "chart", "chart": chart["id"]}]})
    assert created.status_code == 202, created.get_data(as_text=True)
    first = created.get_json()
    recipe = next(r for r in client.get("/api/v1/recipes").get_json()["recipes"]
                  if r["kind"] == "report")
    assert recipe["report"] == first["id"] and recipe["family"] == result["family"]

    rebuilt = client.post(f"/api/v1/recipes/{recipe['id']}/run", json={})
    assert rebuilt.status_code == 200, rebuilt.get_data(as_text=True)
    body = rebuilt.get_json()
    assert body["dataset"] == ids["2020Q4"] and body["title"] == "House prices (2020Q4)"
    assert body["translation"]["renamed"] == {"US": "U.S."}
    with app.app_context():
        spec = db.session.get(Report, body["id"]).spec
    sections = spec["sections"]
    assert sections[0]["columns"] == ["Canada", "U.S."]
    assert sections[-1] == {"type": "changes", "family": result["family"],
                            "previous": "2020Q2", "latest": "2020Q4",
                            "sheet": sections[0]["sheet"], "series": ["Canada", "U.S."]}
    second = _done(client, body["id"])
    assert second["status"] == "done", second["error"]
    text = _pdf_text(client, second, tmp_path)
    assert "What changed: 2020Q4 against 2020Q2" in text
    latest_sha = client.get(f"/api/v1/datasets/{ids['2020Q4']}").get_json()["sha256"]
    assert "Provenance" in text and latest_sha[:20] in text.replace("\n", "")
    # Canada's 2019Q2: 101 in 2020Q2, 102 in 2020Q4 — a revision of 0.990 %, over the 1 %
    # threshold? No: 100 · 1/101 = 0.990 < 1, so no value is listed as revised.
    assert "0 values of the series this report uses were revised by more than 1 %" in \
        " ".join(text.split())
    assert "US → U.S." in text
