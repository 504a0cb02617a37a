"""import-cases with the files people really have: Excel's "CSV" in GBK, "CSV UTF-8" with a BOM,
"Unicode text" in UTF-16; rows with too many values; counts of rows, not problems; records that
span lines reported at their first line. Through the CLI runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from support import in_app

from feedback import case_csv
from feedback.models import Case, Invitation

HEADER = (
    "case_id,survey,resolved_at,channel,agent,team,category,reopened,customer_id,"
    "customer_name,customer_email,customer_phone,customer_locale"
)
ROWS = (
    "HD-1,,2026-11-20 10:00:00,phone,李娜,账务组,退款,,c-1,王小明,wang@example.cn,13800000000,zh-CN",
    'HD-2,,2026-11-21T08:30:00+08:00,email,张伟,"售后, 上海",投诉,0,c-2,刘䶮,,,',
)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def stored(app) -> dict[str, Case]:
    with in_app(app):
        return {c.case_ref: c for c in Case.select()}


def counts(app) -> tuple[int, int]:
    with in_app(app):
        return Case.select().count(), Invitation.select().count()


def as_tabs(line: str) -> str:
    """A row as Excel's "Unicode text" writes it: tab-separated, a value with a comma unquoted."""
    import csv

    return "\t".join(next(csv.reader([line])))


# name, how the file's bytes are made, the encoding the command says it read
EXCEL_FILES = {
    "CSV UTF-8 (with a BOM)": (lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), None),
    "UTF-8 without a BOM": (lambda text: text.encode("utf-8"), None),
    "CSV in GBK/GB18030 (Excel's 'CSV' in Chinese Windows)": (
        lambda text: text.encode("gb18030"),
        "GBK/GB18030",
    ),
    "Unicode text (UTF-16 LE with a BOM, tab-separated)": (
        lambda text: "\r\n".join(as_tabs(line) for line in text.splitlines()).encode("utf-16"),
        "UTF-16",
    ),
    "UTF-16 BE with a BOM, comma-separated": (
        lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
        "UTF-16",
    ),
    "UTF-16 LE without a BOM": (lambda text: text.encode("utf-16-le"), "UTF-16"),
}


@pytest.mark.parametrize("kind", sorted(EXCEL_FILES))
def test_excel_files_in_each_encoding_are_imported(app, tmp_path, kind):
    make, encoding = EXCEL_FILES[kind]
    text = "\r\n".join([HEADER, *ROWS]) + "\r\n"
    path = tmp_path / "cases.csv"
    path.write_bytes(make(text))
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 0, result.output
    assert "Imported 2 new cases" in result.output
    if encoding:
        assert f"{path}: read as {encoding} text" in result.output
    cases = stored(app)
    assert cases["HD-1"].customer_name == "王小明" and cases["HD-1"].agent == "李娜"
    assert cases["HD-2"].customer_name == "刘䶮"  # 䶮 is in GB18030, not in GBK
    with in_app(app):
        assert Case.get(Case.case_ref == "HD-2").team.name == "售后, 上海"
    assert counts(app) == (2, 2)


def test_gb18030_is_needed_for_the_rarer_characters():
    with pytest.raises(UnicodeEncodeError):
        "刘䶮".encode("gbk")


@pytest.mark.parametrize(
    "data,fragment",
    [
        (
            HEADER.encode() + b"\nHD-1,,2026-11-20 10:00:00,phone,\x80\xff\xfe,,,,,,,,\n",
            "is neither UTF-8, UTF-16 nor GBK/GB18030 text (line 2 is the first that fits none)",
        ),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "is an Excel workbook (.xlsx)"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00" * 10, "is not text (it holds NUL bytes)"),
    ],
)
def test_a_file_in_no_known_encoding_says_how_to_save_it_from_excel(app, tmp_path, data, fragment):
    path = tmp_path / "cases.csv"
    path.write_bytes(data)
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 1
    assert f"{path}: {fragment}" in result.output
    assert "'CSV UTF-8 (comma delimited) (*.csv)'" in result.output
    assert "Traceback" not in result.output
    assert counts(app) == (0, 0)


def test_a_row_with_more_values_than_the_header_has_columns_is_refused(app, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                ROWS[0],
                "HD-3,,2026-11-20 10:00:00,phone,,售后, 上海,,,c-3,,,,",  # an unquoted comma
                ROWS[1],
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 1
    assert (
        f"{path}, line 3: has 14 values but the header names 13 columns (a value that "
        "holds a comma must be in double quotes)"
    ) in result.output
    assert counts(app) == (0, 0)
    skipped = run(app, "import-cases", str(path), "--skip-bad")
    assert skipped.exit_code == 0, skipped.output
    assert "Imported 2 new cases" in skipped.output and "1 bad row skipped" in skipped.output
    assert sorted(stored(app)) == ["HD-1", "HD-2"]


def test_bad_rows_are_counted_as_rows_not_problems(app, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                ROWS[0],
                ",,tomorrow-ish,fax,,,,,c-4,,not-an-email,,",  # four problems in one row
                "HD-5,,2026-11-20 10:00:00,chat,,,,maybe,c-5,,,,",  # one
                ROWS[1],
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    refused = run(app, "import-cases", str(path))
    assert refused.exit_code == 1
    assert "5 problems in 2 rows; nothing imported" in refused.output
    result = run(app, "import-cases", str(path), "--skip-bad")
    assert result.exit_code == 0, result.output
    assert "Imported 2 new cases" in result.output
    assert "2 bad rows skipped" in result.output


def test_a_record_that_spans_lines_is_reported_at_its_first_line(app, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                "",  # a blank line is still a line
                'HD-1,,2026-11-20 10:00:00,fax,,,"退款\n加急\n再次",,c-1,,,,',  # lines 3-5
                'HD-2,,2026-11-20 10:00:00,phone,,,"多行\n类别",,c-2,,,,',  # lines 6-7, good
                'HD-3,,2026-11-20 10:00:00,phone,,,"a\nb",,c-3,,,,zh-CN,extra',  # lines 8-9, too many
                "HD-4,,2026-11-20 10:00:00,pigeon,,,,,c-4,,,,",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = run(app, "import-cases", str(path), "--skip-bad")
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"{path}, line 3, field channel" in out
    assert f"{path}, line 8: has 14 values" in out
    assert f"{path}, line 10, field channel" in out
    assert "line 5," not in out and "line 9:" not in out
    assert "3 bad rows skipped" in out
    assert stored(app)["HD-2"].category == "多行\n类别"


def test_records_give_each_record_its_first_line():
    text = 'a,b\n\n"x\ny",1\r\n2,"p\r\nq"\n3,4\n'
    assert list(case_csv.records(text)) == [
        (1, ["a", "b"]),
        (3, ["x\ny", "1"]),
        (5, ["2", "p\r\nq"]),
        (7, ["3", "4"]),
    ]
