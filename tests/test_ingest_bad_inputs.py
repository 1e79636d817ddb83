"""Hostile and broken uploads: each is a clear 4xx, and nothing (worker, pool, disk) is harmed.

Parses that could take a process down run through a real LimitedPool, as in production.
"""

import io
import re
import zipfile

import pytest

from errors import BadInput, TooLarge, Unprocessable, UnsupportedFile
from sandbox import LimitedPool, Limits
from tests.ingest_fixtures import (
    DATA,
    dimension_tag_bomb,
    encrypted_workbook,
    far_cell_bomb,
    ods_bytes,
    replace_member,
    xlsx_bytes,
    zip_bomb,
)
from upload.guard import GuardLimits, check_archive, check_xlsx_extent
from upload.pipeline import ingest_file, parse_file, read_sheet


@pytest.fixture(scope="module")
def pool():
    pool = LimitedPool("file parser", size=1, preload=("upload.pipeline",),
                       limits=Limits(wall_seconds=30, cpu_seconds=30,
                                     memory_bytes=2 * 1024**3)).start()
    yield pool
    pool.close()


def write(tmp_path, content: bytes, name="upload") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_zip_bomb_is_refused_before_inflating(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    path = write(tmp_path, zip_bomb(50))
    with pytest.raises(TooLarge) as caught:
        parse_file(path, "bomb.xlsx", out)
    assert caught.value.status == 413 and caught.value.code == "zip_bomb"
    assert re.match(r"The workbook looks like a zip bomb: its part 'xl/worksheets/sheet1.xml' "
                    r"would expand [\d,]+ times, to 50 MB", caught.value.message)
    assert list(out.iterdir()) == []


def test_declared_size_and_member_count_limits(tmp_path):
    path = DATA / "2020Q1.xlsx"
    with pytest.raises(TooLarge, match=r"would unpack to 3 MB; the limit is 1 MB"):
        check_archive(path, GuardLimits(max_unpacked_bytes=1024 * 1024))
    with pytest.raises(TooLarge, match="has 29 parts; Quartile opens at most 10"):
        check_archive(path, GuardLimits(max_members=10))
    check_archive(path)  # the real workbook passes the default limits


def test_dimension_tag_alone_is_harmless(tmp_path):
    parsed = parse_file(write(tmp_path, dimension_tag_bomb()), "dim.xlsx", tmp_path)
    (sheet,) = parsed.sheets
    assert (sheet.n_rows, sheet.n_cols) == (1, 3)
    assert read_sheet(tmp_path / sheet.parquet).iloc[0].tolist() == [1, 2, 3]


def test_far_apart_cells_are_a_dimension_bomb(tmp_path, pool):
    # calamine allocates the rectangle between A1 and XFD1048576 (512 GB) and aborts: the
    # guard must refuse it first. Run in the pool so a guard failure cannot kill pytest.
    path = write(tmp_path, far_cell_bomb("XFD1048576"))
    with pytest.raises(TooLarge) as caught:
        ingest_file(path, "far.xlsx", tmp_path, pool=pool)
    assert caught.value.code == "dimension_bomb"
    assert caught.value.message.startswith(
        "Sheet 'Sheet' has cells spread over A1:XFD1048576, a rectangle of 17,179,869,184 cells")
    assert pool.replaced == 0


def test_the_extent_is_measured_from_the_cells_whatever_the_attribute_order(tmp_path):
    limits = GuardLimits(max_sheet_cells=100)
    check_xlsx_extent(write(tmp_path, far_cell_bomb("K9")), limits)  # 11 × 9 = 99 cells
    with pytest.raises(TooLarge, match="A1:J20, a rectangle of 200 cells"):
        check_xlsx_extent(write(tmp_path, far_cell_bomb("J20")), limits)
    # the reference after another attribute, and no row number to give it away
    moved = replace_member(far_cell_bomb("J20"), "xl/worksheets/sheet1.xml",
                           lambda x: x.replace(b'<row r="20"><c r="J20" t="n">',
                                               b'<row><c t="n" r="J20">'))
    with zipfile.ZipFile(io.BytesIO(moved)) as archive:
        assert b'<row><c t="n" r="J20">' in archive.read("xl/worksheets/sheet1.xml")
    with pytest.raises(TooLarge, match="A1:J20"):
        check_xlsx_extent(write(tmp_path, moved), limits)


def sheet_part_with(*refs: str) -> bytes:
    """A zip holding only a worksheet part with a cell at each reference (enough for the guard)."""
    cells = "".join(f'<row><c r="{ref}"><v>1</v></c></row>' for ref in refs)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml",
                         f"<worksheet><sheetData>{cells}</sheetData></worksheet>")
    return out.getvalue()


@pytest.mark.parametrize("limit", [100, 10_000, 2_000_000, 50_000_000])
@pytest.mark.parametrize("far", ["J9", "Z99", "Z999999", "AA10", "ZZ9999", "ZZ71225", "ZZ71226",
                                 "AAA999", "BZ12345", "XFD1", "A1048576", "A0000000012"])
def test_the_quick_bounds_clear_only_sheets_within_the_limit(tmp_path, limit, far):
    # a sheet is refused exactly when its cells (A1 to the furthest one) exceed the limit,
    # whichever quick bound (ZZ × 9,999, Z × 999,999, ZZZ × 999) clears the others
    column = 0
    for letter in re.match("[A-Z]+", far)[0]:
        column = column * 26 + ord(letter) - 64
    cells = column * int(re.search(r"\d+", far)[0])
    path = write(tmp_path, sheet_part_with("A1", far))
    if cells > limit:
        with pytest.raises(TooLarge, match=f"over A1:{re.sub('(?<=[A-Z])0+', '', far)}, "
                                           f"a rectangle of {cells:,} cells"):
            check_xlsx_extent(path, GuardLimits(max_sheet_cells=limit))
    else:
        check_xlsx_extent(path, GuardLimits(max_sheet_cells=limit))


def test_a_bomb_the_guard_lets_through_costs_a_worker_not_the_server(tmp_path, pool):
    path = write(tmp_path, far_cell_bomb("XFD1048576"))
    lax = GuardLimits(max_sheet_cells=10**12)
    before = pool.replaced
    with pytest.raises(Unprocessable) as caught:
        ingest_file(path, "far.xlsx", tmp_path, pool=pool, limits=lax)
    assert caught.value.status == 422 and caught.value.code == "memory_limit"
    assert "ran out of memory or crashed" in caught.value.message
    assert pool.replaced == before + 1
    parsed = ingest_file(DATA / "CSUSHPINSA.csv", "CSUSHPINSA.csv", tmp_path, pool=pool)
    assert parsed.sheets[0].n_rows == 436  # the pool answers the next request


def test_a_parse_over_the_time_limit_is_422_and_the_pool_recovers(tmp_path, pool):
    name = "Harvard_JCHS_State_Nations_Housing_2022.xlsx"
    with pytest.raises(Unprocessable) as caught:
        pool.run(parse_file, str(DATA / name), name, str(tmp_path),
                 limits=Limits(wall_seconds=0.05, cpu_seconds=5))
    assert caught.value.code == "time_limit"
    assert caught.value.message == "The file parser took longer than 0.05 s and was stopped."
    parsed = ingest_file(DATA / "2020Q1.xlsx", "2020Q1.xlsx", tmp_path, pool=pool)
    assert [s.name for s in parsed.sheets][1:] == ["HPI", "RHPI", "PDI", "RPDI"]


def test_ods_repeat_bomb_hits_the_reader_cell_limit(tmp_path, pool):
    rows = ('<table:table-row><table:table-cell office:value-type="string"><text:p>a</text:p>'
            '</table:table-cell></table:table-row><table:table-row '
            'table:number-rows-repeated="1000000"><table:table-cell office:value-type="float" '
            'office:value="1" table:number-columns-repeated="16000"><text:p>1</text:p>'
            "</table:table-cell></table:table-row>")
    path = write(tmp_path, ods_bytes(rows))
    with pytest.raises(TooLarge) as caught:
        ingest_file(path, "repeat.ods", tmp_path, pool=pool)
    assert caught.value.code == "too_many_cells"
    assert "Quartile reads sheets of up to 50,000,000 cells" in caught.value.message


def test_ten_thousand_columns_are_refused_clearly(tmp_path):
    header = ",".join(f"c{i}" for i in range(10_000))
    row = ",".join("1" for _ in range(10_000))
    path = write(tmp_path, f"{header}\n{row}\n".encode())
    with pytest.raises(Unprocessable) as caught:
        parse_file(path, "wide.csv", tmp_path)
    assert caught.value.message.startswith("Sheet 'wide' has 10,000 columns after cleaning; "
                                           "Quartile reads at most 2,000 columns per sheet.")


def test_a_too_wide_sheet_is_skipped_when_others_have_data(tmp_path):
    def build(book):
        book.active.append(list(range(30)))
        book.active.append(list(range(30)))
        good = book.create_sheet("good")
        good.append(["x", "y"])
        good.append([1, 2])

    parsed = parse_file(write(tmp_path, xlsx_bytes(build=build)), "mixed.xlsx", tmp_path,
                        limits=GuardLimits(max_columns=20))
    assert [s.name for s in parsed.sheets] == ["good"]
    skipped = [e for e in parsed.cleaning_log if e["step"] == "skipped"]
    assert skipped[0]["sheet"] == "Sheet" and "30 columns after cleaning" in skipped[0]["detail"]


def test_too_many_cells(tmp_path):
    content = "\n".join(",".join(str(i * j) for j in range(10)) for i in range(300)).encode()
    with pytest.raises(TooLarge, match=r"Quartile reads sheets of up to 1,000 cells"):
        parse_file(write(tmp_path, content), "cells.csv", tmp_path,
                   limits=GuardLimits(max_sheet_cells=1000))


def test_mixed_encoding_csv_is_read_and_logged(tmp_path):
    content = "Name,Value\nZürich,1\n".encode() + "Málaga,2\n".encode("cp1252")
    parsed = parse_file(write(tmp_path, content), "mixed.csv", tmp_path)
    frame = read_sheet(tmp_path / parsed.sheets[0].parquet)
    assert frame["Name"].tolist() == ["Zürich", "Málaga"]
    assert frame["Value"].tolist() == [1, 2]
    (entry,) = [e for e in parsed.cleaning_log if e["step"] == "encoding"]
    assert entry["sheet"] is None
    assert entry["detail"].startswith("The text mixes encodings: 1 line of 3 are not UTF-8 and "
                                      "were read as Windows-1252")


def test_blank_workbook_has_no_data(tmp_path):
    with pytest.raises(Unprocessable) as caught:
        parse_file(write(tmp_path, xlsx_bytes()), "blank.xlsx", tmp_path)
    assert caught.value.code == "no_data"
    assert caught.value.message == ("The file has no data: every sheet is blank or holds only "
                                    "a header.")


def test_header_only_csv_has_no_data(tmp_path):
    with pytest.raises(Unprocessable, match="The file has no data: it holds no rows of data."):
        parse_file(write(tmp_path, b"a,b,c\n"), "empty.csv", tmp_path)


def test_blank_sheets_are_skipped_with_a_log_entry(tmp_path):
    def build(book):
        book.create_sheet("data").append(["x"])
        book["data"].append([1])

    parsed = parse_file(write(tmp_path, xlsx_bytes(build=build)), "two.xlsx", tmp_path)
    assert [s.name for s in parsed.sheets] == ["data"]
    assert {"sheet": "Sheet", "step": "skipped",
            "detail": "The sheet is blank; it was skipped."} in parsed.cleaning_log


HOSTILE = ["<script>alert(1)</script>", "../../etc/passwd", "\\input{/etc/passwd}", "x" * 500]


def test_hostile_names_are_just_text(tmp_path):
    def build(book):
        book.active.title = "<script>alert(1)"  # a sheet title cannot hold "/"
        book.active.append(HOSTILE)
        book.active.append([1, 2, 3, 4])
        book.active.append([5, 6, 7, 8])

    out = tmp_path / "out"
    out.mkdir()
    parsed = parse_file(write(tmp_path, xlsx_bytes(build=build)), "../../evil.xlsx", out)
    (sheet,) = parsed.sheets
    assert sheet.name == "<script>alert(1)"
    names = [c["name"] for c in sheet.columns]
    assert names[:3] == HOSTILE[:3] and names[3] == "x" * 200
    assert sheet.columns[3]["original"] == "x" * 500
    assert any("longer than 200 characters were cut" in e["detail"] for e in parsed.cleaning_log)
    assert [p.name for p in out.iterdir()] == ["sheet-000.parquet"]
    frame = read_sheet(out / sheet.parquet)
    assert frame["../../etc/passwd"].tolist() == [2, 6]


def test_hostile_csv_file_name_only_names_the_sheet(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    parsed = parse_file(write(tmp_path, b"a,b\n1,2\n"), "../../etc/passwd.csv", out)
    assert parsed.sheets[0].name == "passwd"
    assert [p.name for p in out.iterdir()] == ["sheet-000.parquet"]


def test_password_protected_workbook_through_the_pool(tmp_path, pool):
    with pytest.raises(UnsupportedFile, match="This workbook is password-protected"):
        ingest_file(write(tmp_path, encrypted_workbook()), "secret.xlsx", tmp_path, pool=pool)


def damaged_sheet_part(content: bytes, member: str) -> bytes:
    """The workbook with one byte of `member`'s compressed data flipped (a transfer error)."""
    raw = bytearray(content)
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(member)
    raw[info.header_offset + 30 + len(info.filename) + len(info.extra) + 10] ^= 0xFF
    return bytes(raw)


def test_a_damaged_sheet_is_a_clear_400_through_the_pool(tmp_path, pool):
    content = damaged_sheet_part((DATA / "2020Q1.xlsx").read_bytes(), "xl/worksheets/sheet2.xml")
    with pytest.raises(BadInput) as caught:
        ingest_file(write(tmp_path, content), "2020Q1.xlsx", tmp_path, pool=pool)
    assert caught.value.status == 400 and caught.value.code == "corrupt_file"
    assert caught.value.message.startswith("The workbook is damaged: sheet 'HPI' cannot be "
                                           "unpacked (")
    assert pool.run(len, "still answers") == 13


@pytest.mark.parametrize(("content", "n_rows"), [
    (b"CSUSHPINSA\n63.7\n64.1\n64.5\n", 3),  # one series, no date column
    (b"quarter\n1975:Q1\n1975:Q2\n1975:Q3\n", 3),
    (b"when\n2020-01-31\n2020-02-29\n", 2),
])
def test_one_column_of_numbers_or_dates_is_still_a_table(tmp_path, content, n_rows):
    parsed = parse_file(write(tmp_path, content), "one.csv", tmp_path)
    assert parsed.sheets[0].n_rows == n_rows


def test_one_column_of_prose_is_not_a_table(tmp_path):
    letter = (b"Dear Ann,\nThe prices in the north rose again this quarter.\n"
              b"I will send the figures when the office has checked them.\nBest wishes\n")
    with pytest.raises(UnsupportedFile, match="'letter.txt' is not a table: its lines do not "
                                                "split into columns"):
        parse_file(write(tmp_path, letter), "letter.txt", tmp_path)


def test_one_column_of_short_labels_is_a_table(tmp_path):
    parsed = parse_file(write(tmp_path, b"answer\nYes\nNo\nYes\nNot sure\n"), "a.csv",
                        tmp_path)
    assert parsed.sheets[0].n_rows == 4
