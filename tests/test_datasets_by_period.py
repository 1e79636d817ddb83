"""A sales table through the API: its day-first `Date` typed, charted on a time axis, and turned
into a monthly median-price series that growth and charts accept (issue 21).

The sales file is generated here; every number checked is computed from the generated rows with
pandas groupby, not read back from the app."""

from __future__ import annotations

from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest

from tests.auth_actions import bearer_headers
from tests.upload_actions import UploadActions


def sales_table(n: int = 240, seed: int = 21) -> pd.DataFrame:
    """Sales on days 1–28 of each month of 2016–2017, prices in whole pounds, two types."""
    rng = np.random.default_rng(seed)
    days = pd.Timestamp(2016, 1, 1) + pd.to_timedelta(rng.integers(0, 731, n), unit="D")
    return pd.DataFrame({
        "Price": rng.integers(80, 900, n) * 1000,
        "Date": days,
        "Type": rng.choice(["D", "S", "T"], n),
    })


def sales_csv(table: pd.DataFrame) -> bytes:
    """Written as registries publish it: day first without zero padding, '£1,480,000'."""
    lines = ["Price,Date,Property Type"]
    for price, day, kind in table.itertuples(index=False):
        lines.append(f'"£{price:,}",{day.day}/{day.month:02d}/{day.year},{kind}')
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def sales(client):
    table = sales_table()
    response = UploadActions(client).upload_bytes(sales_csv(table), "sales.csv")
    assert response.status_code == 201, response.get_json()
    return table, response.get_json()


def by_period(client, dataset_id, sheet="sales", **body):
    return client.post(f"/api/v1/datasets/{dataset_id}/sheets/{quote(sheet, safe='')}/by-period",
                       json=body)


def test_the_date_column_is_typed_and_charts_on_a_time_axis(client, sales):
    table, dataset = sales
    sheet = dataset["sheets"][0]
    dtypes = {c["name"]: c["dtype"] for c in sheet["columns"]}
    assert dtypes["Date"].startswith("datetime64[") and dtypes["Price"] == "int64"
    assert sheet["index"] is None  # the dates repeat: a column, not the index
    rows = client.get(f"/api/v1/datasets/{dataset['id']}/sheets/sales/rows",
                      query_string={"limit": 3}).get_json()
    first = table.iloc[0]
    assert rows["rows"][0][:2] == [int(first["Price"]), first["Date"].isoformat()]
    log = " ".join(e["detail"] for e in dataset["cleaning_log"])
    assert "Column 'Date' holds dates such as" in log and "read day first" in log
    chart = client.post("/api/v1/charts", json={"dataset": dataset["id"], "kind": "line",
                                                "sheet": "sales", "x": "Date", "y": ["Price"]})
    assert chart.status_code == 201, chart.get_json()
    png = client.get(f"/api/v1/charts/{chart.get_json()['id']}.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")


def test_monthly_median_price_matches_pandas_and_feeds_growth_and_charts(client, sales):
    table, dataset = sales
    response = by_period(client, dataset["id"], date="Date", value="Price", freq="M",
                         stats=["count", "median", "mean"], group=None)
    assert response.status_code == 201, response.get_json()
    sheet = response.get_json()
    assert sheet["name"] == "sales Price by month"
    assert sheet["index"]["kind"] == "period" and sheet["index"]["freq"] == "M"
    assert (sheet["index"]["start"], sheet["index"]["end"]) == ("2016-01", "2017-12")
    assert (sheet["n_rows"], sheet["n_cols"]) == (24, 3)
    assert [c["name"] for c in sheet["columns"]] == ["Price count", "Price median",
                                                     "Price mean"]
    assert sheet["derived_from"]["sheet"] == "sales"
    assert sheet["derived_from"]["rule"]["freq"] == "M"
    listed = client.get(f"/api/v1/datasets/{dataset['id']}").get_json()
    assert sheet in listed["sheets"]
    assert any(e["step"] == "by period" and e["sheet"] == sheet["name"]
               for e in listed["cleaning_log"])

    expected = table.groupby(table["Date"].dt.to_period("M"))["Price"].agg(
        ["count", "median", "mean"])
    rows = client.get(f"/api/v1/datasets/{dataset['id']}/sheets/{quote(sheet['name'])}/rows",
                      query_string={"limit": 100}).get_json()
    assert rows["index"] == [str(p) for p in expected.index]
    got = np.array(rows["rows"], dtype=float)
    np.testing.assert_allclose(got, expected.to_numpy(dtype=float))

    growth = client.post(f"/api/v1/datasets/{dataset['id']}/analyses/growth",
                         json={"sheet": sheet["name"], "columns": ["Price median"],
                               "periods": 12})
    assert growth.status_code == 200, growth.get_json()
    medians = expected["median"].to_numpy()
    position = growth.get_json()["index"].index("2017-06")
    assert growth.get_json()["series"]["Price median"][position] == pytest.approx(
        (medians[17] / medians[5] - 1) * 100)

    chart = client.post("/api/v1/charts", json={
        "dataset": dataset["id"], "kind": "line", "sheet": sheet["name"],
        "y": ["Price median"], "options": {"start": "2016-06", "end": "2017-05"}})
    assert chart.status_code == 201, chart.get_json()
    assert client.get(f"/api/v1/charts/{chart.get_json()['id']}.png").status_code == 200


def test_quarterly_by_group_matches_pandas(client, sales):
    table, dataset = sales
    response = by_period(client, dataset["id"], date="Date", value="Price", freq="Q",
                         stats=["median"], group="Property Type")
    assert response.status_code == 201, response.get_json()
    sheet = response.get_json()
    assert [c["name"] for c in sheet["columns"]] == ["D · median", "S · median", "T · median"]
    expected = table.groupby([table["Date"].dt.to_period("Q"), "Type"])["Price"].median()
    expected = expected.unstack()
    rows = client.get(f"/api/v1/datasets/{dataset['id']}/sheets/{quote(sheet['name'])}/rows"
                      ).get_json()
    got = pd.DataFrame(rows["rows"], columns=rows["columns"], index=rows["index"], dtype=float)
    for kind in "DST":
        np.testing.assert_allclose(got[f"{kind} · median"].to_numpy(),
                                   expected[kind].to_numpy(dtype=float))


def test_a_reparse_builds_the_period_sheet_again(client, sales):
    _, dataset = sales
    assert by_period(client, dataset["id"], date="Date", value="Price",
                     freq="Y").status_code == 201
    again = client.post(f"/api/v1/datasets/{dataset['id']}/reparse",
                        json={"sheets": {"sales": {"types": {"Date": "date_monthfirst"}}}})
    assert again.status_code == 200, again.get_json()
    names = [s["name"] for s in again.get_json()["sheets"]]
    assert "sales Price by year" in names
    as_text = client.post(f"/api/v1/datasets/{dataset['id']}/reparse",
                          json={"sheets": {"sales": {"types": {"Date": "text"}}}}).get_json()
    assert [s["name"] for s in as_text["sheets"]] == ["sales"]
    assert any("was not built again" in e["detail"] and "not dates" in e["detail"]
               for e in as_text["cleaning_log"])


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"date": "Nope", "value": "Price", "freq": "M"}, 400, "no column 'Nope'"),
    ({"date": "Property Type", "value": "Price", "freq": "M"}, 422, "not dates"),
    ({"date": "Date", "value": "Property Type", "freq": "M"}, 422, "not numbers"),
    ({"date": "Date", "value": "Price", "freq": "W"}, (400, 422), "freq"),
    ({"date": "Date", "value": "Price", "freq": "M", "stats": ["max"]}, (400, 422), "stats"),
    ({"date": "Date", "value": "Price", "freq": "M", "group": "Price"}, 400, "group"),
])
def test_bad_rules_are_clear_4xx(client, sales, body, status, words):
    _, dataset = sales
    response = by_period(client, dataset["id"], **body)
    assert response.status_code in (status if isinstance(status, tuple) else (status,))
    assert words in str(response.get_json()["error"])
    assert len(client.get(f"/api/v1/datasets/{dataset['id']}").get_json()["sheets"]) == 1


def test_only_the_owner_builds_a_period_sheet(make_app):
    app = make_app(AUTH="on")
    headers = bearer_headers(app)
    alice = UploadActions(app.test_client(), headers["alice"])
    dataset = alice.upload_bytes(sales_csv(sales_table(40)), "sales.csv").get_json()
    alice.client.patch(f"/api/v1/datasets/{dataset['id']}", json={"is_public": True},
                       headers=headers["alice"])
    url = f"/api/v1/datasets/{dataset['id']}/sheets/sales/by-period"
    body = {"date": "Date", "value": "Price", "freq": "M"}
    response = app.test_client().post(url, json=body, headers=headers["bob"])
    assert response.status_code == 403
    assert alice.client.post(url, json=body, headers=headers["alice"]).status_code == 201


def test_the_page_offers_by_period_and_date_types(client, sales):
    table, dataset = sales
    page = client.get(f"/datasets/{dataset['id']}").get_data(as_text=True)
    assert "Build the period sheet" in page
    assert 'value="date_dayfirst"' in page and 'value="date_fy_jun"' in page
    built = client.post(f"/datasets/{dataset['id']}/by-period", data={
        "sheet": "sales", "date": "Date", "value": "Price", "freq": "Q", "group": "",
        "stat:count": "1"})
    assert built.status_code == 302 and "sheet=sales+Price+by+quarter" in built.location
    reparsed = client.post(f"/datasets/{dataset['id']}/reparse",
                           data={"sheet": "sales", "type:Date": "date_monthfirst"})
    assert reparsed.status_code == 302
    after = client.get(f"/api/v1/datasets/{dataset['id']}").get_json()
    assert after["options"]["sheets"]["sales"]["types"] == {"Date": "date_monthfirst"}
    rows = client.get(f"/api/v1/datasets/{dataset['id']}/sheets/sales/rows").get_json()
    first = table["Date"].iloc[0]
    swapped = None if first.day > 12 else pd.Timestamp(first.year, first.day, first.month)
    assert rows["rows"][0][1] == (swapped.isoformat() if swapped is not None else None)


def test_period_summary_groups_ignore_spaces_and_missing_labels():
    from upload.by_period import PeriodRule, period_summary

    frame = pd.DataFrame({
        "when": pd.to_datetime(["2020-01-05", "2020-01-20", "2020-03-02", "2020-03-09",
                                "2020-01-07", None]),
        "v": [1.0, 3.0, 10.0, np.nan, 7.0, 5.0],
        "g": pd.Series(["a", " a", "a", "b", None, "b"], dtype="str"),
    })
    result = period_summary(frame, PeriodRule("s", "when", "v", "M",
                                              ("count", "median", "mean"), "g")).frame
    assert [str(p) for p in result.index] == ["2020-01", "2020-02", "2020-03"]
    assert result["a · count"].tolist() == [2, 0, 1]  # February: no sale, count 0
    np.testing.assert_allclose(result["a · median"], [2.0, np.nan, 10.0])
    assert result["b · count"].tolist() == [0, 0, 0]  # b's only numbers are missing
