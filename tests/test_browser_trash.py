"""The trash and the audit log in real Chromium: delete a dataset, find it in the trash,
restore it, and read both events on the administrator's audit page."""

import re

import pytest

from tests.upload_actions import UploadActions

pytestmark = pytest.mark.browser


def test_delete_restore_and_audit(live_server, page):
    dataset = UploadActions(live_server.app.test_client()).dataset("HousingPreferences.csv")
    p = page.page
    p.goto(f"{live_server.url}/datasets/{dataset['id']}/delete")
    p.get_by_role("button", name="Move to trash").click()
    p.wait_for_url(re.compile(r"/datasets$"))
    assert "Moved HousingPreferences.csv to the trash" in p.inner_text("main")
    assert "HousingPreferences.csv" not in " ".join(p.locator("main table").all_inner_texts())

    p.get_by_role("link", name="Trash", exact=True).click()
    p.wait_for_url(re.compile(r"/trash$"))
    row = p.locator(f'[data-trash-item="dataset/{dataset["id"]}"]')
    assert row.locator("td").first.inner_text() == "HousingPreferences.csv"
    page.check_accessibility()
    row.get_by_role("button", name="Restore HousingPreferences.csv").click()
    p.wait_for_url(re.compile(r"/trash$"))
    assert "Restored dataset 'HousingPreferences.csv'." in p.inner_text("main")
    assert "Your trash is empty." in p.inner_text("main")
    p.goto(f"{live_server.url}/datasets/{dataset['id']}")
    assert p.locator("h1").inner_text() == "HousingPreferences.csv"

    p.get_by_role("link", name="Audit log").click()
    p.wait_for_url(re.compile(r"/admin/audit$"))
    events = p.locator("#audit-events tbody tr").all_inner_texts()
    assert [e.split("\t")[1:4] for e in events[:2]] == [
        ["local", "restored", f"dataset {dataset['id']} 'HousingPreferences.csv'"],
        ["local", "deleted", f"dataset {dataset['id']} 'HousingPreferences.csv'"]]
    page.check_accessibility()
