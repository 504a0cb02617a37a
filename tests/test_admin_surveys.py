"""The admin's survey page: versions, a refused file's error, and a preview of each version."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

from support import login

SURVEYS = Path(__file__).resolve().parent.parent / "surveys"


def test_versions_errors_and_previews(make_app, users, tmp_path):
    folder = tmp_path / "surveys"
    shutil.copytree(SURVEYS, folder)
    app = make_app(SURVEYS_DIR=str(folder))
    runner = app.test_cli_runner()
    post_case = folder / "post-case.yaml"
    post_case.write_text(
        post_case.read_text(encoding="utf-8").replace("How did we do?", "How was our service?"),
        encoding="utf-8",
    )
    assert runner.invoke(args=["surveys", "sync"]).exit_code == 0
    post_case.write_text(
        post_case.read_text(encoding="utf-8").replace("type: csat", "type: stars"), encoding="utf-8"
    )
    assert runner.invoke(args=["surveys", "sync"]).exit_code == 1

    client = app.test_client()
    login(client, "admin")
    page = html.unescape(client.get("/admin/surveys?lang=en").get_data(as_text=True))
    assert "The file was refused" in page
    assert "post-case.yaml: question 'csat': 'type' must be one of" in page
    assert "Preview version 2" in page and "Preview version 1" in page

    old = client.get("/admin/surveys/post-case/v1?lang=en")
    new = client.get("/admin/surveys/post-case/v2?lang=en")
    assert old.status_code == new.status_code == 200
    assert "How did we do?" in old.get_data(as_text=True)
    assert "How was our service?" in new.get_data(as_text=True)
    assert "Answers are not stored" in new.get_data(as_text=True)
    assert "disabled" in new.get_data(as_text=True)  # the preview cannot be sent
    assert client.get("/admin/surveys/post-case/v9").status_code == 404
