"""The commands: import-cases, create-token, create-user, init-db, surveys check and sync."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from support import csrf_from, in_app, new_case, run_flask, survey_path

from feedback import accounts
from feedback.cli import operator_language
from feedback.db import LATEST_SCHEMA, database
from feedback.models import (
    ALL_MODELS,
    ApiToken,
    Case,
    Invitation,
    Response,
    Survey,
    SurveyVersion,
    Team,
    User,
)
from feedback.responses import stored_answers
from feedback.surveys import current_version, definition_of

SURVEYS = Path(__file__).resolve().parent.parent / "surveys"
HEADER = (
    "case_id,survey,resolved_at,channel,agent,team,category,reopened,customer_id,"
    "customer_name,customer_email,customer_phone,customer_locale"
)


def run(app, *args, **kwargs):
    return app.test_cli_runner().invoke(args=list(args), **kwargs)


def write_csv(
    path: Path, *rows: str, header: str = HEADER, bom: bool = False, newline: str = "\n"
) -> Path:
    text = newline.join([header, *rows]) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def counts(app) -> tuple[int, int]:
    with in_app(app):
        return Case.select().count(), Invitation.select().count()


def cases(app) -> dict[str, Case]:
    with in_app(app):
        return {c.case_ref: c for c in Case.select()}


def headers_for(app) -> dict:
    with in_app(app):
        return {"Authorization": f"Bearer {accounts.create_token('helpdesk')}"}


# --- import-cases -------------------------------------------------------------------------------

GOOD_ROWS = (
    "HD-1,,2026-11-20 10:00:00,phone,李娜,账务组,退款,,c-1,王小明,Wang@Example.cn,13800000000,zh-CN",
    "HD-2,servqual,2026-11-20T09:00:00+00:00,chat,张伟,账务组,,no,c-2,,,,en",
    'HD-3,,2026-11-21T08:30:00+08:00,email,,"售后, 上海",投诉,0,c-3,"赵 ""小"" 六",,,',
)


def test_import_cases_with_chinese_text_and_a_bom(app, tmp_path):
    path = write_csv(tmp_path / "cases.csv", *GOOD_ROWS, bom=True)
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 0, result.output
    assert "Importing cases" in result.output  # the progress bar
    assert (
        "Imported 3 new cases; 0 known already; 0 new cases without an invitation" in result.output
    )
    assert counts(app) == (3, 3)
    stored = cases(app)
    one = stored["HD-1"]  # the BOM did not end up in the first column's name
    assert (one.agent, one.category, one.customer_name) == ("李娜", "退款", "王小明")
    assert one.customer_email == "wang@example.cn" and one.customer_locale == "zh_CN"
    assert one.customer_phone == "13800000000"
    assert one.resolved_at == datetime(2026, 11, 20, 2, 0)  # no offset: Asia/Shanghai
    assert stored["HD-2"].resolved_at == datetime(2026, 11, 20, 9, 0)
    assert stored["HD-3"].customer_name == '赵 "小" 六'
    with in_app(app):
        assert sorted(t.name for t in Team.select()) == ["售后, 上海", "账务组"]
        assert Case.get(Case.case_ref == "HD-2").survey.slug == "servqual"
        assert Case.get(Case.case_ref == "HD-1").survey.slug == "post-case"
        assert Case.get(Case.case_ref == "HD-3").team.name == "售后, 上海"


def test_imported_invitation_opens_the_survey(app, tmp_path):
    run(app, "import-cases", str(write_csv(tmp_path / "cases.csv", GOOD_ROWS[0])))
    with in_app(app):
        token = Invitation.get().token
    page = app.test_client().get(f"/s/{token}")
    assert page.status_code == 200 and "服务满意度调查" in page.get_data(as_text=True)


def test_importing_the_same_file_again_changes_nothing(app, tmp_path):
    path = write_csv(tmp_path / "cases.csv", *GOOD_ROWS)
    assert run(app, "import-cases", str(path)).exit_code == 0
    with in_app(app):
        tokens = sorted(i.token for i in Invitation.select())
    again = run(app, "import-cases", str(path))
    assert again.exit_code == 0, again.output
    assert "Imported 0 new cases; 3 known already" in again.output
    with in_app(app):
        assert sorted(i.token for i in Invitation.select()) == tokens


def test_a_bad_row_is_named_by_line_and_field_and_nothing_is_imported(app, tmp_path):
    path = write_csv(
        tmp_path / "cases.csv",
        GOOD_ROWS[0],
        "HD-2,,2026-11-20 10:00:00,fax,,,,,c-2,,,,",
        "",  # a blank line still counts
        ",,tomorrow-ish,phone,,,,,c-4,,not-an-email,,",
        "HD-5,no-such-survey,2026-11-20 10:00:00,chat,,,,,c-5,,,,",
        "HD-6,,2026-11-20 10:00:00,chat,,,,maybe,c-6,,,,",
        GOOD_ROWS[1],
    )
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 1
    out = result.output
    assert (
        f"{path}, line 3, field channel: must be one of phone, chat, email, social, onsite" in out
    )
    assert f"{path}, line 5, field case_id: is required" in out
    assert f"{path}, line 5, field resolved_at: must be an ISO 8601" in out
    assert f"{path}, line 5, field customer.email: is not an email address" in out
    assert f"{path}, line 6, field survey: unknown survey 'no-such-survey'" in out
    assert f"{path}, line 7, field reopened: must be true or false" in out
    assert "line 2," not in out and "line 8," not in out
    assert "6 problems in 4 rows; nothing imported" in out and "--skip-bad" in out
    assert counts(app) == (0, 0)
    with in_app(app):
        assert Team.select().count() == 0


def test_skip_bad_imports_the_good_rows(app, tmp_path):
    path = write_csv(
        tmp_path / "cases.csv",
        GOOD_ROWS[0],
        "HD-2,,2026-11-20 10:00:00,fax,,,,,c-2,,,,",
        GOOD_ROWS[2],
    )
    result = run(app, "import-cases", str(path), "--skip-bad")
    assert result.exit_code == 0, result.output
    assert f"{path}, line 3, field channel" in result.output
    assert "Imported 2 new cases" in result.output and "1 bad row skipped" in result.output
    assert sorted(cases(app)) == ["HD-1", "HD-3"]


def test_duplicate_case_id_within_the_file_gets_one_invitation(app, tmp_path):
    path = write_csv(
        tmp_path / "cases.csv",
        "HD-1,,2026-11-20 10:00:00,phone,,,,,c-1,,,,",
        "HD-1,,2026-11-20 11:00:00,chat,,,,,c-1,,,,",
        "HD-2,,2026-11-20 10:00:00,phone,,,,,c-2,,,,",
        "HD-2,,2026-11-21 10:00:00,phone,,,,true,c-2,,,,",
    )
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 0, result.output
    assert "Imported 2 new cases; 2 known already" in result.output
    assert counts(app) == (2, 2)
    stored = cases(app)
    assert stored["HD-1"].channel == "phone"  # the first row counts; the second is the same case
    with in_app(app):
        # a later row may reopen the case, as the same case sent again through the API would
        status = {i.case.case_ref: i.status for i in Invitation.select(Invitation, Case).join(Case)}
    assert status == {"HD-1": "pending", "HD-2": "cancelled"}


def test_throttle_applies_within_the_file(app, tmp_path):
    path = write_csv(
        tmp_path / "cases.csv",
        "HD-1,,2026-11-20 10:00:00,phone,,,,,c-1,,a@x.cn,,",
        "HD-2,,2026-11-20 11:00:00,phone,,,,,,,A@X.CN,,",
        "HD-3,,2026-11-20 12:00:00,phone,,,,yes,c-9,,,,",
    )
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 0, result.output
    assert (
        "Imported 3 new cases; 0 known already; 2 new cases without an invitation" in result.output
    )
    assert counts(app) == (3, 1)


def test_quoted_values_keep_line_breaks_and_line_numbers_stay_right(app, tmp_path):
    path = write_csv(
        tmp_path / "cases.csv",
        'HD-1,,2026-11-20 10:00:00,phone,,,"退款\n加急",,c-1,,,,',
        "HD-2,,2026-11-20 10:00:00,fax,,,,,c-2,,,,",
        "HD-3,,2026-11-20 10:00:00,phone,,,,,c-3,\u738b\u2028\u5c0f\u660e,,,",
        newline="\r\n",
    )
    result = run(app, "import-cases", str(path), "--skip-bad")
    assert result.exit_code == 0, result.output
    assert f"{path}, line 4, field channel" in result.output  # physical line 4
    assert "1 bad row skipped" in result.output
    stored = cases(app)
    assert stored["HD-1"].category == "退款\n加急"
    assert stored["HD-3"].customer_name == "王\u2028小明"


def test_required_columns_are_checked_first(app, tmp_path):
    path = write_csv(
        tmp_path / "cases.csv", "HD-1,2026-11-20 10:00:00", header="case_id,resolved_at"
    )
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 1
    assert f"{path}, line 1: missing column channel" in result.output
    assert counts(app) == (0, 0)


def test_only_the_required_columns(app, tmp_path):
    path = write_csv(
        tmp_path / "cases.csv",
        "HD-1,2026-11-20 10:00:00,onsite",
        header="case_id,resolved_at,channel",
    )
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 0, result.output
    assert counts(app) == (1, 1)


def test_a_file_in_no_encoding_we_read_is_refused(app, tmp_path):
    path = tmp_path / "cases.csv"  # \x80 and \xff fit neither UTF-8 nor GB18030
    path.write_bytes((HEADER + "\n" + GOOD_ROWS[0] + "\n").encode("gbk") + b"\x80\xff\n")
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 1
    assert f"{path}: is neither UTF-8, UTF-16 nor GBK/GB18030 text" in result.output
    assert counts(app) == (0, 0)


def test_a_value_too_long_for_the_csv_reader_is_reported(app, tmp_path):
    path = write_csv(
        tmp_path / "cases.csv",
        GOOD_ROWS[0],
        "HD-2,,2026-11-20 10:00:00,phone,,,," + "x" * 200_000 + ",c-2,,,,",
    )
    result = run(app, "import-cases", str(path))
    assert result.exit_code == 1
    assert f"{path}, line 3: field larger than field limit" in result.output
    assert counts(app) == (0, 0)


def test_an_empty_file_imports_nothing(app, tmp_path):
    result = run(app, "import-cases", str(write_csv(tmp_path / "cases.csv")))
    assert result.exit_code == 0, result.output
    assert "Imported 0 new cases" in result.output


def test_a_missing_file_is_a_usage_error(app, tmp_path):
    result = run(app, "import-cases", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "does not exist" in result.output


# --- create-token -----------------------------------------------------------------------------


def test_create_token_prints_it_last_and_keeps_only_its_hash(app):
    result = run(app, "create-token", "helpdesk")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("fbk_") and len(token) > 40
    assert result.stdout.strip() == token  # the explanation went to stderr
    with in_app(app):
        stored = ApiToken.get()
        assert stored.name == "helpdesk"
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        row = database.execute_sql("SELECT * FROM api_token").fetchone()
        assert not any(token in str(value) for value in row)
    reply = new_case(app.test_client(), {"Authorization": f"Bearer {token}"})
    assert reply["suppressed"] is False
    second = run(app, "create-token", "helpdesk").output.strip().splitlines()[-1]
    assert second != token


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_create_token_refuses_a_bad_name(app, name):
    result = run(app, "create-token", name)
    assert result.exit_code == 2
    assert "name: 1 to 100 characters" in result.output
    with in_app(app):
        assert ApiToken.select().count() == 0


# --- create-user ------------------------------------------------------------------------------


def test_create_user_with_every_option(app):
    result = run(
        app,
        "create-user",
        "alice",
        "--role",
        "admin",
        "--name",
        "王丽",
        "--team",
        "账务组",
        "--password",
        "s3cret-pass",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin 'alice'." in result.output
    with in_app(app):
        user = User.get(User.username == "alice")
        assert (user.role, user.display_name, user.team.name) == ("admin", "王丽", "账务组")
        assert "s3cret-pass" not in user.password_hash
        assert accounts.authenticate("alice", "s3cret-pass").id == user.id


def test_create_user_asks_for_the_password_twice(app):
    result = run(app, "create-user", "bob", input="long-password\nlong-password\n")
    assert result.exit_code == 0, result.output
    with in_app(app):
        user = User.get(User.username == "bob")
        assert user.role == "staff" and user.team is None and user.display_name == "bob"
        assert accounts.authenticate("bob", "long-password") is not None


@pytest.mark.parametrize(
    "args,message",
    [
        (["a b", "--password", "long-password"], "username: 2 to 64 letters"),
        (["x", "--password", "long-password"], "username: 2 to 64 letters"),
        (["carol", "--password", "short"], "password: at least 8 characters"),
        (["carol", "--password", "long-password", "--role", "boss"], "Invalid value for '--role'"),
    ],
)
def test_create_user_refuses_bad_input(app, args, message):
    result = run(app, "create-user", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    with in_app(app):
        assert User.select().count() == 0


def test_create_user_refuses_a_taken_username(app):
    assert run(app, "create-user", "dave", "--password", "long-password").exit_code == 0
    result = run(app, "create-user", "dave", "--password", "other-password")
    assert result.exit_code == 2
    assert "username: this username is taken" in result.output
    with in_app(app):
        assert User.select().count() == 1


def test_create_user_with_mismatched_passwords_creates_nobody(app):
    result = run(app, "create-user", "erin", input="long-password\nother-password\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    with in_app(app):
        assert User.select().count() == 0


# --- init-db ----------------------------------------------------------------------------------


def snapshot(app) -> dict:
    tables = ["schema_migration"] + [m._meta.table_name for m in ALL_MODELS]
    with in_app(app):
        return {t: database.execute_sql(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}


def test_init_db_creates_everything_and_twice_changes_nothing(make_app):
    app = make_app(migrated=False)
    first = run(app, "init-db")
    assert first.exit_code == 0, first.output
    assert f"Database schema upgraded from version 0 to {LATEST_SCHEMA}." in first.output
    assert "applied migration 1:" in first.output
    assert "survey post-case: new, version 1" in first.output
    before = snapshot(app)
    assert len(before["survey_version"]) == 3
    second = run(app, "init-db")
    assert second.exit_code == 0, second.output
    assert f"Database schema is up to date (version {LATEST_SCHEMA})." in second.output
    assert "applied migration" not in second.output
    assert "survey post-case: unchanged, version 1" in second.output
    assert snapshot(app) == before


def test_only_a_site_started_on_an_old_database_warns_about_it(tmp_path):
    """``flask init-db`` on a new file does not tell the user to run ``flask init-db``."""
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
        "FEEDBACK_SECRET_KEY": "test",
    }
    site = subprocess.run(
        [sys.executable, "-c", "import feedback; feedback.create_app()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "the database is not up to date: run 'flask --app feedback init-db'" in site.stderr
    command = run_flask(env, "init-db")
    assert command.returncode == 0, command.stderr
    assert "Database schema upgraded from version 0" in command.stdout
    assert "not up to date" not in command.stdout + command.stderr


def test_init_db_keeps_existing_rows(app):
    client = app.test_client()
    new_case(client, headers_for(app))
    before = snapshot(app)
    result = run(app, "init-db")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert snapshot(app) == before


# --- surveys check ----------------------------------------------------------------------------


@pytest.fixture
def surveys_dir(tmp_path) -> Path:
    folder = tmp_path / "surveys"
    folder.mkdir()
    for path in SURVEYS.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_surveys_check_passes_the_shipped_files(app):
    result = run(app, "surveys", "check")
    assert result.exit_code == 0, result.output
    for slug in ("callback", "post-case", "servqual"):
        assert f"ok    {slug} (" in result.output


def test_surveys_check_names_file_question_and_problem(make_app, surveys_dir):
    post_case = surveys_dir / "post-case.yaml"
    edit(post_case, "  - id: csat\n    type: csat", "  - id: csat\n    type: stars")
    edit(post_case, "      en: How likely are you to recommend us to a friend or colleague?\n", "")
    edit(surveys_dir / "servqual.yaml", "slug: servqual", "slug: servqual\nowner: me")
    app = make_app(SURVEYS_DIR=str(surveys_dir))
    result = run(app, "surveys", "check")
    assert result.exit_code == 1
    out = result.output
    assert "post-case.yaml: question 'csat': 'type' must be one of" in out and "'stars'" in out
    assert "post-case.yaml: question 'nps': 'text' lacks the en text" in out
    assert "servqual.yaml: unknown key 'owner'" in out
    assert "ok    callback (" in out and "ok    post-case" not in out


def test_surveys_check_with_dir_and_broken_yaml(app, surveys_dir):
    (surveys_dir / "callback.yaml").write_text(
        "slug: callback\ntitle: [unclosed\n", encoding="utf-8"
    )
    result = run(app, "surveys", "check", "--dir", str(surveys_dir))
    assert result.exit_code == 1
    assert "callback.yaml: is not valid YAML at line" in result.output
    assert "ok    post-case (" in result.output


def test_surveys_check_with_no_files(app, tmp_path):
    result = run(app, "surveys", "check", "--dir", str(tmp_path))
    assert result.exit_code == 1
    assert "no survey files (*.yaml)" in result.output


# --- surveys sync -----------------------------------------------------------------------------

ANSWERS = {"resolved": "yes", "csat": "4", "nps": "9", "comment": "第一版 first"}


def answer(client, reply: dict, data: dict) -> None:
    path = survey_path(reply)
    page = client.get(path)
    assert page.status_code == 200
    sent = client.post(path, data={**data, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert sent.status_code == 302, sent.get_data(as_text=True)


def api_version(client, headers) -> dict:
    reply = client.get("/api/v1/surveys/post-case", headers=headers)
    assert reply.status_code == 200
    return reply.get_json()


def test_sync_makes_a_new_version_and_refuses_a_bad_file(make_app, surveys_dir):
    app = make_app(SURVEYS_DIR=str(surveys_dir))
    client = app.test_client()
    headers = headers_for(app)
    first = new_case(client, headers, case_id="C-1", customer={"id": "c-1"})
    answer(client, first, ANSWERS)
    assert api_version(client, headers)["version"] == 1

    # a changed file becomes version 2
    post_case = surveys_dir / "post-case.yaml"
    edit(post_case, "en: How did we do?", "en: How did we do today?")
    edit(post_case, "en: Speed of response", "en: How fast we answered")
    result = run(app, "surveys", "sync")
    assert result.exit_code == 0, result.output
    assert "post-case: changed, version 2" in result.output
    assert "servqual: unchanged, version 1" in result.output
    served = api_version(client, headers)
    assert served["version"] == 2 and served["title"]["en"] == "How did we do today?"

    # the old response still points at version 1 and reads as it was answered
    with in_app(app):
        response = Response.get()
        old = SurveyVersion.get_by_id(response.survey_version_id)
        assert old.version == 1
        definition = definition_of(old)
        assert definition.title.en == "How did we do?"
        assert definition.question("speed").text.en == "Speed of response"
        assert stored_answers(definition, response.id) == {
            "resolved": "yes",
            "csat": 4,
            "nps": 9,
            "comment": "第一版 first",
        }
    thanks = client.get(survey_path(first) + "/thanks?lang=en")
    assert thanks.status_code == 200

    # a new case is answered on version 2
    second = new_case(client, headers, case_id="C-2", customer={"id": "c-2"})
    page = client.get(survey_path(second) + "?lang=en").get_data(as_text=True)
    assert "How fast we answered" in page
    answer(client, second, {**ANSWERS, "comment": "第二版"})
    with in_app(app):
        versions = {
            r.case.case_ref: SurveyVersion.get_by_id(r.survey_version_id).version
            for r in Response.select(Response, Case).join(Case)
        }
    assert versions == {"C-1": 1, "C-2": 2}

    # a broken file is refused with its problem; version 2 stays in use
    edit(post_case, "  - id: nps\n    type: nps", "  - id: nps\n    type: stars")
    broken = run(app, "surveys", "sync")
    assert broken.exit_code == 1
    assert "post-case: refused; version 2 stays in use" in broken.output
    assert "post-case.yaml: question 'nps': 'type' must be one of" in broken.output
    assert api_version(client, headers)["version"] == 2
    with in_app(app):
        survey = Survey.get(Survey.slug == "post-case")
        assert "question 'nps'" in survey.error
        assert current_version("post-case").version == 2
        assert SurveyVersion.select().where(SurveyVersion.survey == survey).count() == 2
        for response in Response.select():  # every response still reads
            version = SurveyVersion.get_by_id(response.survey_version_id)
            assert stored_answers(definition_of(version), response.id)["csat"] == 4
    third = new_case(client, headers, case_id="C-3", customer={"id": "c-3"})
    assert client.get(survey_path(third)).status_code == 200

    # mended: the same content as version 2, so nothing new, and the error is cleared
    edit(post_case, "  - id: nps\n    type: stars", "  - id: nps\n    type: nps")
    mended = run(app, "surveys", "sync")
    assert mended.exit_code == 0, mended.output
    assert "post-case: unchanged, version 2" in mended.output
    with in_app(app):
        assert Survey.get(Survey.slug == "post-case").error is None


def test_sync_refuses_a_new_bad_file_without_a_version(make_app, surveys_dir):
    app = make_app(SURVEYS_DIR=str(surveys_dir))
    (surveys_dir / "broken.yaml").write_text("slug: broken\n", encoding="utf-8")
    result = run(app, "surveys", "sync")
    assert result.exit_code == 1
    assert "broken: refused\n" in result.output and "stays in use" not in result.output
    assert "post-case: unchanged, version 1" in result.output
    reply = app.test_client().get("/api/v1/surveys/broken", headers=headers_for(app))
    assert reply.status_code == 404


def test_sync_at_start_loads_the_folder(make_app, surveys_dir):
    edit(surveys_dir / "post-case.yaml", "en: How did we do?", "en: Tell us")
    app = make_app(SURVEYS_DIR=str(surveys_dir))
    with in_app(app):
        assert definition_of(current_version("post-case")).title.en == "Tell us"


def test_sync_in_a_process_of_its_own_reports_the_version_it_made(surveys_dir, tmp_path):
    """``flask surveys sync`` builds the app, and building it syncs: the new version was made
    then, and the command said "unchanged, version 3" right after making version 3."""
    env = {
        **os.environ,
        "FEEDBACK_DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "FEEDBACK_SURVEYS_DIR": str(surveys_dir),
        "FEEDBACK_SECRET_KEY": "test",
        "LANG": "C.UTF-8",
    }
    env.pop("LANGUAGE", None)
    assert run_flask(env, "init-db").returncode == 0
    post_case = surveys_dir / "post-case.yaml"
    for number, title in ((2, "How did we do today?"), (3, "How was it?")):
        edit(
            post_case,
            "en: How did we do?" if number == 2 else "en: How did we do today?",
            f"en: {title}",
        )
        result = run_flask(env, "surveys", "sync")
        assert result.returncode == 0, result.stderr
        assert f"post-case: changed, version {number}" in result.stdout
        assert "servqual: unchanged, version 1" in result.stdout
    again = run_flask(env, "surveys", "sync")
    assert "post-case: unchanged, version 3" in again.stdout
    edit(post_case, "en: How was it?", "en: And now?")
    init = run_flask(env, "init-db")
    assert "survey post-case: changed, version 4" in init.stdout


@pytest.mark.parametrize(
    ("environment", "code"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh_CN"),
        ({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_cli_speaks_the_terminals_language(monkeypatch, environment, code):
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert operator_language().code == code


def test_init_db_in_chinese(make_app, monkeypatch):
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    app = make_app(migrated=False)
    first = run(app, "init-db")
    assert f"数据库结构已从版本 0 升级到 {LATEST_SCHEMA}。" in first.output
    assert f"数据库结构已是最新（版本 {LATEST_SCHEMA}）。" in run(app, "init-db").output


def test_one_imported_case_is_singular(app, tmp_path):
    result = run(app, "import-cases", str(write_csv(tmp_path / "cases.csv", GOOD_ROWS[0])))
    assert result.exit_code == 0, result.output
    assert "Imported 1 new case; 0 known already; 0 new cases without an invitation" in (
        result.output
    )
