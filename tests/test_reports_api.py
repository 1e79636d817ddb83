"""Reports over HTTP with real pdflatex: right numbers, inert hostile names, caching, isolation."""

import subprocess
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rendition.latex.tables import format_number
from store.db import db
from store.models import Report
from tests.auth_actions import AuthActions
from tests.upload_actions import DATA, UploadActions


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture
def hpi(client):
    return UploadActions(client).dataset("2020Q1.xlsx")


def pdf_bytes(client, report_id: str) -> bytes:
    with client.get(f"/api/v1/reports/{report_id}.pdf") as response:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "application/pdf"
        return response.data


def build(client, dataset, sections, title="Test report"):
    return client.post("/api/v1/reports", json={"dataset": dataset["id"], "title": title,
                                                "sections": sections})


def test_describe_report_numbers_equal_numpy(client, hpi, tmp_path):
    response = build(client, hpi, [{"type": "summary"}, {"type": "describe", "sheets": ["HPI"]},
                                   {"type": "cleaning_log"}])
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "done" and body["error"] is None
    status = client.get(f"/api/v1/reports/{body['id']}").get_json()
    assert status["status"] == "done"
    pdf = pdf_bytes(client, body["id"])
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    for country in ("Canada", "Japan"):
        values = pd.to_numeric(raw[country], errors="coerce").dropna().to_numpy(float)
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(country))
        assert format_number(float(np.mean(values))) in line.split()
    assert hpi["sha256"] in text.replace("\n", "")  # provenance


def test_an_unchanged_report_is_not_rebuilt(client, hpi):
    sections = [{"type": "describe", "sheets": ["RHPI"]}]
    first = build(client, hpi, sections).get_json()
    started = time.perf_counter()
    again = build(client, hpi, sections)
    elapsed = time.perf_counter() - started
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert elapsed < 0.5


def test_ols_and_growth_sections(client, tmp_path):
    housing = UploadActions(client).dataset("HousingPreferences.csv")
    response = build(client, housing, [{"type": "ols", "sheet": "HousingPreferences",
                                        "formula": "Price ~ Area"}])
    assert response.status_code == 201
    text = pdf_text(pdf_bytes(client, response.get_json()["id"]), tmp_path)
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    slope = np.polyfit(frame["Area"], frame["Price"], 1)[0]
    assert format_number(float(slope)) in text


HOSTILE = r"\input{/etc/passwd}"


def test_hostile_names_never_execute(client, tmp_path):
    marker = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    content = (f"{HOSTILE},\\write18{{touch {marker}}},$&%#_{{}}~^\\,Ελληνικά 中文 ü €\n"
               "1,2,3,4\n2,3,4,5\n3,5,6,7\n").encode()
    dataset = UploadActions(client).upload_bytes(content, "evil.csv").get_json()
    response = build(client, dataset, [{"type": "summary"}, {"type": "cleaning_log"},
                                       {"type": "describe", "sheets": ["evil"]}],
                     title=r"\write18{touch " + str(marker) + "}")
    assert response.status_code == 201
    assert response.get_json()["status"] == "done", response.get_json()["error"]
    text = pdf_text(pdf_bytes(client, response.get_json()["id"]), tmp_path)
    assert "root:x:0:0" not in text
    assert not marker.exists()
    assert HOSTILE in text


@pytest.mark.parametrize(
    ("sections", "status", "phrase"),
    [
        ([], 400, "at least one section"),
        ([{"type": "nope"}], 400, "needs a type"),
        ([{"type": "describe"}], 400, "needs sheets"),
        ([{"type": "describe", "sheets": ["Nope"]}], 404, "Nope"),
        ([{"type": "ols", "sheet": "HPI", "formula": "Canada ~ Nope"}], 400, "Nope"),
    ],
)
def test_bad_sections_are_clear_4xx(client, hpi, sections, status, phrase):
    response = build(client, hpi, sections)
    assert response.status_code == status, response.get_data(as_text=True)
    assert phrase in response.get_json()["error"]["message"]


def test_pdf_before_it_is_built_is_409(client, app, hpi):
    with app.app_context():
        from store.models import User

        owner = db.session.scalar(db.select(User))
        report = Report(owner_id=owner.id, dataset_id=hpi["id"], title="queued", spec={},
                        inputs_hash="0" * 64, status="queued")
        db.session.add(report)
        db.session.commit()
        report_id = report.id
    response = client.get(f"/api/v1/reports/{report_id}.pdf")
    assert response.status_code == 409
    assert "queued" in response.get_json()["error"]["message"]


def test_another_users_report_is_404(make_app):
    app = make_app(AUTH="on")
    auth = AuthActions(app, app.test_client())
    headers = {}
    for name in ("alice", "bob"):
        auth.create_user(name)
        headers[name] = {"Authorization": f"Bearer {auth.token_for(name)}"}
    alice = UploadActions(app.test_client(), headers["alice"])
    dataset = alice.dataset("HousingPreferences.csv")
    report = alice.client.post("/api/v1/reports", headers=headers["alice"], json={
        "dataset": dataset["id"], "sections": [{"type": "summary"}]}).get_json()
    bob = app.test_client()
    for url in (f"/api/v1/reports/{report['id']}", f"/api/v1/reports/{report['id']}.pdf"):
        assert bob.get(url, headers=headers["bob"]).status_code == 404
    assert bob.post("/api/v1/reports", headers=headers["bob"], json={
        "dataset": dataset["id"], "sections": [{"type": "summary"}]}).status_code == 404


def test_cli_report_in_one_command(runner, tmp_path):
    out = tmp_path / "out.pdf"
    result = runner.invoke(args=["quartile", "report", str(DATA / "2011Q2.xlsx"), "-o",
                                 str(out)])
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "Describe: HPI" in text and "Growth: HPI" in text
