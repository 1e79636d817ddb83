"""Reports over HTTP with real pdflatex: right numbers, inert hostile names, caching, isolation."""

import contextlib
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rendition.latex.tables import format_number
from store.db import db
from store.models import Job, Report
from tests.auth_actions import bearer_headers
from tests.stack_fixtures import GATES, make_app_stopping_jobs, wait_for  # noqa: F401
from tests.storage_fixtures import stored
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


def build(client, dataset, sections, title="Test report", headers=None):
    return client.post("/api/v1/reports", headers=headers, json={
        "dataset": dataset["id"], "title": title, "sections": sections})


def finished(client, report_id: str, headers=None, timeout: float = 60) -> dict:
    """Poll the report until its build job ends; its final JSON."""
    def final():
        body = client.get(f"/api/v1/reports/{report_id}", headers=headers).get_json()
        return body if body["status"] in ("done", "failed") else None

    return wait_for(final, timeout, f"report {report_id}", interval=0.1)


def housing_scatter(client, dataset_id: str) -> dict:
    """A saved Price-against-Area scatter of the housing CSV (its 201 checked), as JSON."""
    chart = client.post("/api/v1/charts", json={"dataset": dataset_id,
                                                "sheet": "HousingPreferences",
                                                "kind": "scatter", "x": "Area", "y": ["Price"]})
    assert chart.status_code == 201, chart.get_data(as_text=True)
    return chart.get_json()


def built(client, dataset, sections, title="Test report", headers=None) -> dict:
    """Queue a report (202), wait for its job, and return the report's final JSON."""
    response = build(client, dataset, sections, title, headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    queued = response.get_json()
    assert queued["status"] in ("queued", "running", "done") and queued["job"]
    return finished(client, queued["id"], headers)


def test_describe_report_numbers_equal_numpy(client, hpi, tmp_path):
    body = built(client, hpi, [{"type": "summary"}, {"type": "describe", "sheets": ["HPI"]},
                               {"type": "cleaning_log"}])
    assert body["status"] == "done" and body["error"] is None
    assert body["pdf"] == f"/api/v1/reports/{body['id']}.pdf"
    pdf = pdf_bytes(client, body["id"])
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    raw = pd.read_excel(DATA / "2020Q1.xlsx", sheet_name="HPI", header=0, engine="calamine")
    for country in ("Canada", "Japan"):
        values = pd.to_numeric(raw[country], errors="coerce").dropna().to_numpy(float)
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(country))
        assert format_number(float(np.mean(values))) in line.split()
    assert hpi["sha256"] in text.replace("\n", "")  # provenance
    assert "sheet every sheet;" in text and "sheet None" not in text  # a whole-dataset report


def test_reports_load_the_machines_precompiled_preamble(make_app, tmp_path, monkeypatch):
    from rendition.latex import compile as latex_compile

    loaded = []
    real_typeset = latex_compile.typeset

    def typeset(*args, **kwargs):
        built = real_typeset(*args, **kwargs)
        loaded.append(built.format)
        return built

    monkeypatch.setattr(latex_compile, "typeset", typeset)
    app = make_app(LATEX_FORMAT_DIR=tmp_path / "formats")
    client = app.test_client()
    dataset = UploadActions(client).dataset("2020Q1.xlsx")
    for title in ("First", "Second"):
        body = built(client, dataset, [{"type": "describe", "sheets": ["RHPI"]}], title=title)
        assert body["status"] == "done", body
        assert "Describe: RHPI" in pdf_text(pdf_bytes(client, body["id"]), tmp_path)
    (path,) = (tmp_path / "formats").glob("report-*.fmt")  # built by the first, kept
    assert loaded == [path.stem, path.stem]


def test_an_unchanged_report_is_not_rebuilt(client, hpi):
    sections = [{"type": "describe", "sheets": ["RHPI"]}]
    first = built(client, hpi, sections)
    started = time.perf_counter()
    again = build(client, hpi, sections)
    elapsed = time.perf_counter() - started
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert elapsed < 0.5


def test_ols_and_growth_sections(client, tmp_path):
    housing = UploadActions(client).dataset("HousingPreferences.csv")
    report = built(client, housing, [{"type": "ols", "sheet": "HousingPreferences",
                                      "formula": "Price ~ Area", "cov_type": "HC1"}])
    pdf = pdf_bytes(client, report["id"])
    text = pdf_text(pdf, tmp_path)
    frame = pd.read_csv(DATA / "HousingPreferences.csv")
    slope = np.polyfit(frame["Area"], frame["Price"], 1)[0]
    assert format_number(float(slope)) in text
    assert "Standard errors" in text and "HC1" in text
    assert pdf.count(b"/Subtype /Image") >= 2  # fitted vs actual and residuals vs fitted


HOSTILE = r"\input{/etc/passwd}"


def test_hostile_names_never_execute(client, tmp_path):
    marker = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    content = (f"{HOSTILE},\\write18{{touch {marker}}},$&%#_{{}}~^\\,Ελληνικά 中文 ü €\n"
               "1,2,3,4\n2,3,4,5\n3,5,6,7\n").encode()
    dataset = UploadActions(client).upload_bytes(content, "evil.csv").get_json()
    report = built(client, dataset, [{"type": "summary"}, {"type": "cleaning_log"},
                                     {"type": "describe", "sheets": ["evil"]}],
                   title=r"\write18{touch " + str(marker) + "}")
    assert report["status"] == "done", report["error"]
    text = pdf_text(pdf_bytes(client, report["id"]), tmp_path)
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
def test_bad_sections_are_clear_4xx(client, app, hpi, sections, status, phrase):
    response = build(client, hpi, sections)
    assert response.status_code == status, response.get_data(as_text=True)
    assert phrase in response.get_json()["error"]["message"]
    with app.app_context():  # refused before any report row or job exists
        assert db.session.scalar(db.select(db.func.count(Report.id))) == 0
        assert db.session.scalar(db.select(db.func.count(Job.id))) == 0


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
    headers = bearer_headers(app)
    alice = UploadActions(app.test_client(), headers["alice"])
    dataset = alice.dataset("HousingPreferences.csv")
    report = built(alice.client, dataset, [{"type": "summary"}], headers=headers["alice"])
    bob = app.test_client()
    for url in (f"/api/v1/reports/{report['id']}", f"/api/v1/reports/{report['id']}.pdf",
                f"/api/v1/jobs/{report['job']}", f"/reports/{report['id']}"):
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


def test_a_report_build_is_a_job_that_reports_each_section(client, app, hpi):
    from jobs import events
    from web.auth import local_user

    with app.app_context():
        subscription = events.subscribe([events.user_topic(local_user().id)], timeout=10)
    sections = [{"type": "summary"}, {"type": "describe", "sheets": ["HPI", "RHPI"]},
                {"type": "growth", "sheet": "HPI", "columns": ["Canada"], "periods": 4}]
    report = built(client, hpi, sections)
    assert report["status"] == "done", report["error"]
    # The task marks the report done just before the engine marks its job done.
    job = wait_for(lambda: (b := client.get(f"/api/v1/jobs/{report['job']}").get_json())
                   ["state"] == "done" and b, 10, "the report's job")
    assert (job["kind"], job["state"], job["progress"]) == ("report", "done", 100)
    assert job["result"]["report"] == report["id"]
    messages = []
    with subscription:
        while (change := subscription.get(2)) is not None:
            messages.append(change.data)
    progress = [m["message"] for m in messages if m.get("what") == "jobs"]
    assert "Section 1 of 3: summary" in progress and "Section 3 of 3: growth" in progress
    assert "Typesetting with pdflatex" in progress
    assert any(m.get("what") == "reports" and m.get("id") == report["id"] for m in messages)


def test_the_same_report_asked_twice_while_building_is_one_build(client, app, hpi):
    sections = [{"type": "describe", "sheets": ["PDI"]}]
    first = build(client, hpi, sections)
    second = build(client, hpi, sections)
    assert first.status_code == 202 and second.status_code == 200
    assert second.get_json()["id"] == first.get_json()["id"]
    assert finished(client, first.get_json()["id"])["status"] == "done"
    with app.app_context():
        kinds = db.session.scalars(db.select(Job.kind)).all()
    assert kinds.count("report") == 1


def test_a_cancelled_build_fails_the_report_and_keeps_no_pdf(make_app):
    app = make_app(JOB_WORKERS=1)
    client = app.test_client()
    hpi = UploadActions(client).dataset("2020Q1.xlsx")
    GATES["report-queue"] = threading.Event()
    with app.app_context():  # the one worker thread is busy: the report waits in the queue
        import jobs
        from web.auth import local_user

        blocker = jobs.submit("test_gate", {"gate": "report-queue"}, local_user().id).id
    response = build(client, hpi, [{"type": "describe", "sheets": ["HPI"]}])
    assert response.status_code == 202
    report = response.get_json()
    assert report["status"] == "queued"
    assert client.delete(f"/api/v1/jobs/{report['job']}").get_json()["state"] == "cancelled"
    GATES["report-queue"].set()
    wait_for(lambda: client.get(f"/api/v1/jobs/{blocker}").get_json()["state"] == "done", 10,
             "the blocking job")
    after = client.get(f"/api/v1/reports/{report['id']}").get_json()
    assert after["status"] == "failed" and after["error"] == "The build was cancelled."
    pdf = client.get(f"/api/v1/reports/{report['id']}.pdf")
    assert pdf.status_code == 409
    assert "The build was cancelled." in pdf.get_json()["error"]["message"]
    # Asking again builds it afresh rather than returning the cancelled one.
    again = built(client, hpi, [{"type": "describe", "sheets": ["HPI"]}])
    assert again["id"] != report["id"] and again["status"] == "done"


def test_the_report_page_follows_its_build(client, hpi):
    report = built(client, hpi, [{"type": "summary"}], title="Page follows")
    page = client.get(f"/reports/{report['id']}").get_data(as_text=True)
    assert "Download the PDF" in page and f"/api/v1/reports/{report['id']}.pdf" in page
    wait_for(lambda: client.get(f"/api/v1/jobs/{report['job']}").get_json()["state"] == "done",
             10, "the report's job")  # done just after the report itself
    fragment = client.get(f"/jobs/{report['job']}/result").get_data(as_text=True)
    assert f"/api/v1/reports/{report['id']}.pdf" in fragment and "Page follows" in fragment


def test_deleting_a_dataset_deletes_its_reports_and_charts(client, app):
    """Regression: on SQLite (foreign keys were off) the report outlived its dataset."""
    housing = UploadActions(client).dataset("HousingPreferences.csv")
    chart = housing_scatter(client, housing["id"])
    report = built(client, housing, [{"type": "summary"}])
    with app.app_context():
        pdf = stored(app, f"reports/{db.session.get(Report, report['id']).pdf_path}")
    assert pdf.exists()
    assert client.delete(f"/api/v1/datasets/{housing['id']}").status_code == 204
    assert client.get(f"/api/v1/reports/{report['id']}").status_code == 404
    assert client.get(f"/api/v1/charts/{chart['id']}").status_code == 404
    assert pdf.exists()  # in the trash with its dataset
    assert client.post("/api/v1/trash/empty").get_json() == {"purged": 1}
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Report.id))) == 0
    assert not pdf.exists()  # regression: the PDF outlived its report


def test_the_builder_preselects_the_data_sheets_not_the_notes(client, hpi):
    page = client.get(f"/reports?dataset={hpi['id']}").get_data(as_text=True)
    describe = page.split('id="describe"', 1)[1].split("</fieldset>", 1)[0]
    selected = re.findall(r'name="describe" value="([^"]+)" id="[^"]+" checked>', describe)
    assert selected == ["HPI", "RHPI", "PDI", "RPDI"]
    ols = page.split('id="ols_sheet"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r"<option selected>([^<]+)</option>", ols) == ["HPI"]
    housing = UploadActions(client).dataset("HousingPreferences.csv")  # no period index
    page = client.get(f"/reports?dataset={housing['id']}").get_data(as_text=True)
    assert 'value="HousingPreferences" id="describe-1" checked>' in page


def test_deleting_a_report_removes_its_pdf_unless_a_twin_uses_it(make_app):
    app = make_app(AUTH="on")
    headers = bearer_headers(app)
    client = app.test_client()
    made = {}
    for name in ("alice", "bob"):  # the same bytes and sections: one PDF, typeset once
        dataset = UploadActions(client, headers[name]).dataset("HousingPreferences.csv")
        made[name] = built(client, dataset, [{"type": "summary"}], title="Twin",
                           headers=headers[name])
    with app.app_context():
        paths = {db.session.get(Report, made[n]["id"]).pdf_path for n in made}
    assert len(paths) == 1
    pdf = stored(app, f"reports/{paths.pop()}")
    response = client.delete(f"/api/v1/reports/{made['alice']['id']}", headers=headers["alice"])
    assert response.status_code == 204
    assert client.get(f"/api/v1/reports/{made['alice']['id']}",
                      headers=headers["alice"]).status_code == 404
    assert pdf.exists()  # bob's report still uses it
    with client.get(f"/api/v1/reports/{made['bob']['id']}.pdf", headers=headers["bob"]) as r:
        assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert client.delete(f"/api/v1/reports/{made['bob']['id']}",
                         headers=headers["alice"]).status_code == 404  # not hers to delete
    assert client.delete(f"/api/v1/reports/{made['bob']['id']}",
                         headers=headers["bob"]).status_code == 204
    assert pdf.exists()  # both in their owners' trash
    with app.app_context():
        from upload import trash

        assert trash.empty(app.config["FILES_DIR"]) == 2
    assert not pdf.exists()


@contextlib.contextmanager
def report_queued_behind_a_gate(make_app, gate: str):
    """(client, dataset, report): a summary report held in the queue by a gated job."""
    app = make_app(JOB_WORKERS=1)
    client = app.test_client()
    hpi = UploadActions(client).dataset("2020Q1.xlsx")
    GATES[gate] = threading.Event()
    try:
        with app.app_context():
            import jobs
            from web.auth import local_user

            jobs.submit("test_gate", {"gate": gate}, local_user().id)
        report = build(client, hpi, [{"type": "summary"}]).get_json()
        assert report["status"] == "queued"
        yield client, hpi, report
    finally:
        GATES[gate].set()


@pytest.mark.parametrize(("delete", "message"), [
    ("/reports/{report}/delete", "The report is in the trash"),
    ("/datasets/{dataset}/delete", "Moved 2020Q1.xlsx to the trash"),  # its reports go too
])
def test_deleting_a_queued_report_or_its_dataset_cancels_the_build(make_app, delete, message):
    with report_queued_behind_a_gate(make_app, f"delete {delete}") as (client, hpi, report):
        url = delete.format(report=report["id"], dataset=hpi["id"])
        page = client.post(url, follow_redirects=True)
        assert page.status_code == 200 and message in page.get_data(True)
        assert client.get(f"/api/v1/jobs/{report['job']}").get_json()["state"] == "cancelled"
        assert client.get(f"/api/v1/reports/{report['id']}").status_code == 404


def test_the_default_report_compares_each_period_with_a_year_before():
    from types import SimpleNamespace

    from web.report_build import default_sections

    def sheet(name, freq):
        return {"name": name, "index": {"kind": "period", "freq": freq},
                "columns": [{"name": "x", "dtype": "float64"}]}

    dataset = SimpleNamespace(meta={"sheets": [sheet("q", "Q-DEC"), sheet("m", "M"),
                                               sheet("y", "Y-DEC")]})
    growth = {s["sheet"]: s["periods"] for s in default_sections(dataset)
              if s["type"] == "growth"}
    assert growth == {"q": 4, "m": 12, "y": 1}


def test_a_build_stopped_while_running_marks_its_report_even_if_it_was_deleted(app, hpi):
    from jobs import Cancelled
    from web.auth import local_user
    from web.report_build import build_for_job

    def new_report() -> str:
        report = Report(owner_id=local_user().id, dataset_id=hpi["id"], title="Stopped",
                        spec={"author": "", "sections": [{"type": "summary"}]},
                        inputs_hash="1" * 64, status="queued")
        db.session.add(report)
        db.session.commit()
        return report.id

    def cancel(percent, message):
        raise Cancelled("test")

    with app.test_request_context():
        report_id = new_report()
        with pytest.raises(Cancelled):
            build_for_job(report_id, cancel)
        stopped = db.session.get(Report, report_id, populate_existing=True)
        assert (stopped.status, stopped.error) == ("failed", "The build was cancelled.")

        doomed = new_report()

        def delete_then_cancel(percent, message):  # another request deletes it meanwhile
            with db.engine.begin() as other:
                other.execute(db.delete(Report).where(Report.id == doomed))
            raise Cancelled("test")

        with pytest.raises(Cancelled):  # not an ObjectDeletedError from marking a gone row
            build_for_job(doomed, delete_then_cancel)
        assert db.session.get(Report, doomed) is None


def test_a_report_deleted_while_pdflatex_runs_leaves_no_pdf(app, hpi):
    from jobs import Cancelled
    from store.objects import objects_for
    from web.auth import local_user
    from web.report_build import build_for_job

    with app.test_request_context():
        report = Report(owner_id=local_user().id, dataset_id=hpi["id"], title="Gone",
                        spec={"author": "", "sections": [{"type": "summary"}]},
                        inputs_hash="2" * 64, status="queued")
        db.session.add(report)
        db.session.commit()
        report_id = report.id

        def delete_at_typesetting(percent, message):
            if message.startswith("Typesetting"):  # another request deletes it now
                with db.engine.begin() as other:
                    other.execute(db.delete(Report).where(Report.id == report_id))

        with pytest.raises(Cancelled):
            build_for_job(report_id, delete_at_typesetting)
        assert not objects_for(app.config["FILES_DIR"]).exists(f"reports/{'2' * 64}.pdf")


# -- Prefer: wait (RFC 7240): one request instead of polling --------------------------------
def test_prefer_wait_answers_with_the_built_report(client, hpi, tmp_path):
    response = client.post("/api/v1/reports", headers={"Prefer": "wait=30"}, json={
        "dataset": hpi["id"], "title": "Waited for", "sections": [
            {"type": "describe", "sheets": ["RHPI"]}]})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["status"], body["error"]) == ("done", None)
    # No polling: the PDF is there the moment the answer comes.
    assert "Describe: RHPI" in pdf_text(pdf_bytes(client, body["id"]), tmp_path)


def test_prefer_wait_gives_up_after_the_time_asked_for(make_app):
    app = make_app(JOB_WORKERS=1)
    client = app.test_client()
    hpi = UploadActions(client).dataset("2020Q1.xlsx")
    GATES["report-wait"] = threading.Event()
    with app.app_context():  # the one worker thread is busy: the report stays queued
        import jobs
        from web.auth import local_user

        jobs.submit("test_gate", {"gate": "report-wait"}, local_user().id)
    try:
        started = time.perf_counter()
        response = client.post("/api/v1/reports", headers={"Prefer": "respond-async, wait=1"},
                               json={"dataset": hpi["id"], "title": "Queued",
                                     "sections": [{"type": "describe", "sheets": ["HPI"]}]})
        elapsed = time.perf_counter() - started
        assert response.status_code == 202, response.get_data(as_text=True)
        assert response.get_json()["status"] == "queued"
        assert 1.0 <= elapsed < 5.0
    finally:
        GATES["report-wait"].set()
    assert finished(client, response.get_json()["id"])["status"] == "done"


@pytest.mark.parametrize(("header", "seconds"), [
    ("wait=5", 5.0), ("respond-async, wait=2.5", 2.5), ("WAIT = 10", 10.0),
    ('wait="3"', 3.0), ("wait=100000", 60.0),  # capped: a thread is held meanwhile
    ("", 0.0), ("respond-async", 0.0), ("wait=soon", 0.0), ("nowait=5", 0.0), ("wait=-1", 0.0),
])
def test_prefer_wait_header_is_read_as_rfc_7240_says(app, header, seconds):
    from web.http import preferred_wait

    with app.test_request_context(headers={"Prefer": header} if header else {}):
        assert preferred_wait(60.0) == seconds
