"""Raw response exports: CSV and XLSX round trips, formula cells neutralised, streamed."""

from __future__ import annotations

import csv
import io

import pytest
from data_sets import START
from openpyxl import load_workbook
from support import counted_queries, in_app, login

from feedback.exports import safe_cell

PERIOD = f"from={START}&to=2026-10-31"


@pytest.mark.parametrize(
    "value,shown",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("很好", "很好"),
        (-5, -5),
        (None, None),
    ],
)
def test_safe_cell(value, shown):
    assert safe_cell(value) == shown


def add_dangerous_comment(app):
    with in_app(app):
        from feedback.models import Answer, Response

        first = Response.select().order_by(Response.id).first()
        Answer.create(response=first, question_id="comment", value_text="=cmd|' /C calc'!A0")
        return first.id


def test_csv_round_trip(app, manager, scored):
    rid = add_dangerous_comment(app)
    reply = manager.get(f"/manage/export/responses.csv?{PERIOD}&lang=en")
    assert reply.status_code == 200
    assert "attachment" in reply.headers["Content-Disposition"]
    assert "responses-post-case-2026-09-01-to-2026-10-31" in reply.headers["Content-Disposition"]
    body = reply.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 120
    assert list(rows[0])[:10] == [
        "Response",
        "Submitted at",
        "Case",
        "Channel",
        "Team",
        "Agent",
        "Category",
        "Source",
        "Language",
        "Survey version",
    ]
    assert {"csat", "nps", "what_went_wrong"} <= set(rows[0])  # questions by their ids
    dangerous = next(r for r in rows if r["Response"] == str(rid))
    assert dangerous["comment"] == "'=cmd|' /C calc'!A0"
    by_case = {r["Case"]: r for r in rows}
    answered = [r for r in scored if r["answered"]]
    assert len(by_case) == len(answered)
    assert sorted(int(r["csat"]) for r in rows) == sorted(r["csat"] for r in answered)
    assert {r["Team"] for r in rows} == {"账务组", "技术支持", "售后服务"}


def test_xlsx_round_trip(app, manager, scored):
    add_dangerous_comment(app)
    reply = manager.get(f"/manage/export/responses.xlsx?{PERIOD}&channel=chat&lang=zh_CN")
    assert reply.status_code == 200 and reply.get_data()[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(reply.get_data()), read_only=True).active
    assert sheet.title == "回答"
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    data = [row + (None,) * (len(header) - len(row)) for row in rows[1:]]  # empty tails trimmed
    assert header[:10] == (
        "回答编号",
        "提交时间",
        "案件",
        "渠道",
        "团队",
        "客服",
        "类别",
        "来源",
        "语言",
        "问卷版本",
    )
    assert len(data) == len([r for r in scored if r["answered"] and r["channel"] == "chat"])
    assert all(row[header.index("渠道")] == "chat" for row in data)  # the code, as the API has it
    assert all(isinstance(row[header.index("csat")], int) for row in data)
    for row in data:
        comment = row[header.index("comment")]
        assert comment is None or not str(comment).startswith("=")


def test_export_needs_a_report_role(app, users, scored):
    client = app.test_client()
    assert client.get("/manage/export/responses.csv").status_code == 302
    login(client, "staff")
    assert client.get("/manage/export/responses.csv").status_code == 403


def test_export_bad_filter_and_format(manager):
    assert manager.get("/manage/export/responses.csv?from=nope").status_code == 400
    assert manager.get("/manage/export/responses.pdf").status_code == 404


def test_export_streams_in_batches(app, manager, scored, monkeypatch):
    """Rows come in batches by id, one answers query per batch, not one per row."""
    import feedback.exports as exports

    monkeypatch.setattr(exports, "BATCH", 25)
    with counted_queries() as executed:
        body = manager.get(f"/manage/export/responses.csv?{PERIOD}").get_data()
    assert body.decode("utf-8-sig").count("\n") == 121
    answer_queries = [q for q in executed if 'FROM "answer"' in q]
    assert len(answer_queries) == 5  # 120 rows in batches of 25
