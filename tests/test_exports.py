"""Raw response exports: CSV and XLSX round trips, formula cells neutralised, streamed."""

from __future__ import annotations

import csv
import io
import re

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
    with in_app(app):
        from feedback.models import Answer

        for value in ("speed", "not_solved"):
            Answer.create(response=rid, question_id="what_went_wrong", value_text=value)
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
    # questions by their words, as the responses list's download heads them; no ids
    assert {"CSAT", "NPS", "What went wrong? (choose any)", "Was your problem resolved?"} <= set(
        rows[0]
    )
    assert not {"csat", "nps", "what_went_wrong", "resolved", "comment"} & set(rows[0])
    comment = "Anything else you would like to tell us?"
    dangerous = next(r for r in rows if r["Response"] == str(rid))
    assert dangerous[comment] == "'=cmd|' /C calc'!A0"
    by_case = {r["Case"]: r for r in rows}
    answered = [r for r in scored if r["answered"]]
    assert len(by_case) == len(answered)
    assert sorted(int(r["CSAT"]) for r in rows) == sorted(r["csat"] for r in answered)
    assert {r["Team"] for r in rows} == {"账务组", "技术支持", "售后服务"}
    # codes in words: channel, source, language, yes/no, choices
    assert {r["Channel"] for r in rows} <= {
        "Phone",
        "Online chat",
        "Email",
        "Social media",
        "On site",
    }
    assert {r["Source"] for r in rows} == {"Customer's survey link"}
    assert {r["Language"] for r in rows} <= {"Chinese", "English"}
    assert {r["Was your problem resolved?"] for r in rows} <= {"Yes", "No"}
    # the two choices added above: their labels, joined
    assert dangerous["What went wrong? (choose any)"] == "It took too long; Problem not solved"
    codes = {"phone", "chat", "link", "callback", "zh_CN", "en", "yes", "no"}
    assert not codes & {cell for r in rows for cell in r.values()}


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
    assert all(row[header.index("渠道")] == "在线客服" for row in data)  # in words, not "chat"
    assert {row[header.index("来源")] for row in data} == {"客户的问卷链接"}
    assert {row[header.index("语言")] for row in data} <= {"中文", "英语"}
    assert {row[header.index("您的问题解决了吗？")] for row in data} <= {"是", "否"}
    assert all(isinstance(row[header.index("CSAT（满意度）")], int) for row in data)
    for row in data:
        comment = row[header.index("还有什么想告诉我们的吗？")]
        assert comment is None or not str(comment).startswith("=")
    for head in header:  # a Chinese reader's heads: no English ids
        assert not re.fullmatch(r"[a-z_]+", head), head


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


@pytest.mark.parametrize(
    "chart", ["csat-trend", "csat-control", "csat-by-channel", "agent-funnel", "nps-trend"]
)
def test_a_charts_table_download_rounds_as_its_page(app, manager, scored, chart):
    """Numbers with at most two decimals, as the chart's page shows them (69.38775510204081 was
    written whole), still numbers; heads in the reader's language."""
    reply = manager.get(f"/manage/charts/{chart}.csv?{PERIOD}&lang=en&download=1")
    assert reply.status_code == 200 and reply.content_type == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row]
    numbers = [c for c in cells if re.fullmatch(r"-?\d+(\.\d+)?", c)]
    assert numbers, rows
    assert not [c for c in numbers if re.fullmatch(r"-?\d+\.\d{3,}", c)], rows
    assert any("." in c for c in numbers) or chart == "agent-funnel"
    assert not [h for h in rows[0] if re.fullmatch(r"[a-z_]+", h)]
