"""Survey files as an attacker or a careless hand writes them: duplicated keys, anchors and
aliases (a "billion laughs"), deep nesting, huge files. Each is refused with the file, the line
and the question named; none stops the site from starting, and the last good version stays."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import in_app, login

from feedback import definitions
from feedback.definitions import DefinitionError
from feedback.models import Survey
from feedback.surveys import current_version, definition_of

ROOT = Path(__file__).resolve().parent.parent
SURVEYS = ROOT / "surveys"
POST_CASE = (SURVEYS / "post-case.yaml").read_text(encoding="utf-8")


def changed(old: str, new: str, text: str = POST_CASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the first line holding ``fragment``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def problems_of(tmp_path: Path, text: str, name: str = "post-case.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        definitions.load_file(path)
    return "\n".join(caught.value.problems)


# --- a billion laughs: nine levels of anchors, each used nine times, 9**9 strings ----------------

LAUGHS = (
    "\n".join(
        ["laughs:", '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        + [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    )
    + "\n"
)

# Where the expansion is used: a question's text, help, choices, show_if, a follow-up rule.
BOMB_PLACES = {
    "text": ("en: Overall, how satisfied are you with the service you received?", "en: *a8"),
    "help": (
        "  - id: csat\n    type: csat\n",
        "  - id: csat\n    type: csat\n    help: {zh-CN: *a8, en: *a8}\n",
    ),
    "choices": ("label: {zh-CN: 响应太慢, en: It took too long}", "label: {zh-CN: *a8, en: *a8}"),
    "show_if": ("show_if: csat <= 2", "show_if: *a8"),
    "follow_up": ("  - nps <= 6\n", "  - *a8\n"),
}


def bomb(place: str) -> str:
    old, new = BOMB_PLACES[place]
    return changed("slug: post-case\n", "slug: post-case\n" + LAUGHS, changed(old, new))


def deep(levels: int, flow: bool) -> str:
    """A question's text nested ``levels`` lists deep, in flow ([[[...]]]) or block style."""
    if flow:
        value = "[" * levels + "x" + "]" * levels
        return changed(
            "en: Overall, how satisfied are you with the service you received?", f"en: {value}"
        )
    block = "".join(f"\n{'  ' * (4 + i)}- " for i in range(levels)).rstrip(" ") + " x"
    return changed(
        "en: Overall, how satisfied are you with the service you received?", "en:" + block
    )


def test_a_key_given_twice_in_a_question_is_refused_with_file_line_and_question(tmp_path):
    text = changed(
        "  - id: csat\n    type: csat\n    required: true\n",
        "  - id: csat\n    type: csat\n    required: true\n    required: false\n",
    )
    text = changed(
        "  - id: nps\n    type: nps\n", "  - id: nps\n    type: nps\n    type: text\n", text
    )
    problems = problems_of(tmp_path, text)
    csat = line_of(text, "- id: csat")
    assert (
        f"post-case.yaml, line {csat + 3}, question 'csat': 'required' is given twice "
        f"(first on line {csat + 2})"
    ) in problems, problems
    nps = line_of(text, "- id: nps")
    assert (
        f"post-case.yaml, line {nps + 2}, question 'nps': 'type' is given twice "
        f"(first on line {nps + 1})"
    ) in problems, problems


def test_a_top_level_key_given_twice_is_refused(tmp_path):
    text = POST_CASE + "slug: post-case\n"
    problems = problems_of(tmp_path, text)
    assert (
        f"post-case.yaml, line {len(text.splitlines())}: 'slug' is given twice "
        f"(first on line {line_of(text, 'slug: post-case')})"
    ) in problems


def test_a_yaml_merge_is_refused(tmp_path):
    text = changed(
        "  - id: nps\n    type: nps\n",
        "  - id: nps\n    type: nps\n    <<: {type: text, required: false}\n",
    )
    problems = problems_of(tmp_path, text)
    assert (
        f"post-case.yaml, line {line_of(text, '<<:')}, question 'nps': '<<' (a YAML merge) "
        "is not allowed"
    ) in problems


def test_the_same_choice_label_language_twice_is_refused(tmp_path):
    text = changed(
        "label: {zh-CN: 响应太慢, en: It took too long}",
        "label: {zh-CN: 响应太慢, en: It took too long, en: Slow}",
    )
    problems = problems_of(tmp_path, text)
    line = line_of(text, "en: Slow}")
    assert (
        f"post-case.yaml, line {line}, question 'what_went_wrong': 'en' is given twice" in problems
    )


@pytest.mark.parametrize(
    "old,new,where",
    [
        ("    text:\n      zh-CN: 总体而言", "    text: &asked\n      zh-CN: 总体而言", "csat"),
        ("      - value: speed\n", "      - value: speed\n        extra: *x\n", "what_went_wrong"),
    ],
)
def test_anchors_and_aliases_are_refused_naming_line_and_question(tmp_path, old, new, where):
    text = changed(old, new)
    problems = problems_of(tmp_path, text)
    line = line_of(text, "&asked" if "&" in new else "*x")
    assert f"post-case.yaml, line {line}, question '{where}': " in problems, problems
    assert "anchors and aliases" in problems


@pytest.mark.parametrize("place", sorted(BOMB_PLACES))
def test_a_billion_laughs_is_refused_at_its_first_anchor(tmp_path, place):
    started = time.monotonic()
    problems = problems_of(tmp_path, bomb(place))
    assert time.monotonic() - started < 2
    assert "post-case.yaml, line 4: anchors and aliases (&a0) are not allowed" in problems


@pytest.mark.parametrize("levels,flow", [(11, True), (11, False), (100_000, True), (400, False)])
def test_deep_nesting_is_refused_with_a_message(tmp_path, levels, flow):
    text = deep(levels, flow)
    problems = problems_of(tmp_path, text)
    # the eleventh level (survey, questions, question, text, and seven lists) opens on the
    # text's line ([[[...) or seven lines below it (- - -)
    line = line_of(text, "  - id: csat") + 5 + (0 if flow else 7)
    assert (
        f"post-case.yaml, line {line}, question 'csat': nested more than 10 levels deep" in problems
    ), problems


def test_the_nesting_a_survey_needs_is_allowed(tmp_path):
    path = tmp_path / "post-case.yaml"
    path.write_text(deep(4, True).replace("en: [[[[x]]]]", "en: x"), encoding="utf-8")
    assert definitions.load_file(path).question("csat").text.en == "x"


def test_a_file_beyond_the_size_limit_is_refused_unread(tmp_path):
    text = POST_CASE + "#" * (definitions.MAX_FILE_BYTES + 1) + "\n"
    problems = problems_of(tmp_path, text)
    assert (
        f"post-case.yaml: is {len(text.encode()):,} bytes; a survey file may be at most "
        f"{definitions.MAX_FILE_BYTES:,}" in problems
    )


def test_shipped_files_still_load_with_the_same_checksums():
    for path in definitions.survey_files(SURVEYS):
        import yaml

        expected = definitions.parse(
            yaml.safe_load(path.read_text(encoding="utf-8")), path.name
        ).checksum
        assert definitions.load_file(path).checksum == expected


# --- in a real process: memory and the command line ---------------------------------------------

MEASURE = """
import resource, subprocess, sys
limit = 1024 * 1024 * 1024  # a runaway expansion dies here instead of taking the machine
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, preexec_fn=lambda:
                      resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
sys.stdout.write(done.stdout)
sys.stderr.write(done.stderr)
print(f"rc={done.returncode} maxrss_kb={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
"""


def flask_measured(*args: str, env: dict) -> tuple[str, int, float]:
    """Run ``flask --app feedback ARGS`` in a child process: its output, peak RSS (KB), time."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, sys.executable, "-m", "flask", "--app", "feedback", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    rss = int(output.rsplit("maxrss_kb=", 1)[1].split()[0])
    return output, rss, elapsed


def test_surveys_check_refuses_a_billion_laughs_at_once_with_little_memory(tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    shutil.copytree(SURVEYS, good)
    shutil.copytree(SURVEYS, bad)
    (bad / "post-case.yaml").write_text(bomb("text"), encoding="utf-8")
    env = {**os.environ, "FEEDBACK_DATABASE_URL": f"sqlite:///{tmp_path}/feedback.sqlite3"}
    baseline, base_rss, _ = flask_measured("surveys", "check", "--dir", str(good), env=env)
    assert "rc=0" in baseline, baseline
    output, rss, elapsed = flask_measured("surveys", "check", "--dir", str(bad), env=env)
    assert "rc=1" in output, output
    assert "error post-case.yaml, line 4: anchors and aliases (&a0) are not allowed" in output
    assert "Traceback" not in output and "MemoryError" not in output
    assert "ok    servqual" in output
    # The same memory as checking the shipped files, give or take allocator noise.
    assert rss < base_rss + 20_000, (rss, base_rss)
    assert elapsed < 30  # the interpreter and Flask start in a few seconds on a busy machine
    print(
        f"billion laughs: peak RSS {rss / 1024:.0f} MB (good files {base_rss / 1024:.0f} MB), "
        f"{elapsed:.1f} s"
    )


# --- the site starts whatever the folder holds ---------------------------------------------------

BAD_FILES = {
    "billion laughs": (lambda: bomb("choices"), "anchors and aliases (&a0) are not allowed"),
    "deep nesting": (lambda: deep(100_000, True), "question 'csat': nested more than 10 levels"),
    "duplicate key": (
        lambda: changed(
            "  - id: nps\n    type: nps\n", "  - id: nps\n    type: nps\n    type: text\n"
        ),
        "question 'nps': 'type' is given twice",
    ),
    "huge file": (
        lambda: POST_CASE + "#" * (definitions.MAX_FILE_BYTES + 1),
        "a survey file may be at most",
    ),
    "not UTF-8": (lambda: POST_CASE.encode("gb18030"), "is not UTF-8 text"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_the_site_starts_with_a_bad_file_and_keeps_its_last_good_version(
    make_app, users, tmp_path, kind
):
    folder = tmp_path / "surveys"
    shutil.copytree(SURVEYS, folder)
    make_app(SURVEYS_DIR=str(folder))  # the good files: version 1 of each
    content, fragment = BAD_FILES[kind]
    content = content()
    if isinstance(content, str):
        content = content.encode("utf-8")
    (folder / "post-case.yaml").write_bytes(content)

    started = time.monotonic()
    app = make_app(SURVEYS_DIR=str(folder))  # a restart with the bad file in place
    assert time.monotonic() - started < 10
    with in_app(app):
        version = current_version("post-case")
        assert version.version == 1
        assert definition_of(version).question("nps").type == "nps"
        error = Survey.get(Survey.slug == "post-case").error
        assert fragment in error and "post-case.yaml" in error
    client = app.test_client()
    login(client, "admin")
    page = html.unescape(client.get("/admin/surveys?lang=en").get_data(as_text=True))
    assert "The file was refused" in page and fragment in page


# --- surveys check reads only files --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        None,
        "mysql://nowhere/feedback",
        "sqlite:///",
        "postgresql://127.0.0.1:1/nothing",
        "sqlite:////proc/no-such-folder/feedback.sqlite3",
    ],
)
def test_surveys_check_needs_no_database(tmp_path, url):
    env = {k: v for k, v in os.environ.items() if k != "FEEDBACK_DATABASE_URL"}
    cwd = ROOT
    if url is None:
        # The default database lies in the project's instance/ folder: run a copy of the
        # package, so that the test can see that no database file is made there.
        cwd = tmp_path / "project"
        shutil.copytree(
            ROOT / "feedback",
            cwd / "feedback",
            ignore=shutil.ignore_patterns("__pycache__", "*.mo"),
        )
    else:
        env["FEEDBACK_DATABASE_URL"] = url
    folder = tmp_path / "surveys"
    shutil.copytree(SURVEYS, folder)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "feedback",
            "surveys",
            "check",
            "--dir",
            str(folder),
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok    post-case (" in done.stdout and "Traceback" not in done.stderr
    if url is None:
        assert not list((cwd / "instance").glob("*.sqlite3"))

    if url is not None and url.startswith(("mysql", "postgresql")):
        # the same setting still stops a command that needs the database, with a message
        synced = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "feedback", "surveys", "sync"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert synced.returncode == 1 and "Traceback" not in synced.stderr, synced.stderr
        assert "FEEDBACK_DATABASE_URL" in synced.stderr


# --- whatever the bytes, a DefinitionError or a definition --------------------------------------

FRAGMENTS = [
    "&a ",
    "*a",
    "<<: ",
    "? ",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\t",
    "!!",
    "!!python/object:os.system ",
    "'",
    '"',
    "#",
    "|",
    ">",
    "---\n",
    "...",
    "\x00",
    "\ufeff",
    "%YAML 1.1\n",
    "id: csat\n",
    "required: ",
    "type: ",
    "yes",
    "~",
    "1e9",
    "0x1F",
    "2026-01-01",
    "[[[[[[[[[[[[",
    "\udcff",
]


def test_mangled_survey_files_are_refused_or_read_never_crash(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    path = tmp_path / "post-case.yaml"

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        st.lists(
            st.tuples(
                st.integers(0, len(POST_CASE)), st.integers(0, 40), st.sampled_from(FRAGMENTS)
            ),
            min_size=1,
            max_size=6,
        )
    )
    def mangled(edits):
        text = POST_CASE
        for at, cut, fragment in edits:  # at a place, drop a few characters and put one in
            text = text[:at] + fragment + text[at + cut :]
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        try:
            definition = definitions.load_file(path)
        except DefinitionError as exc:
            assert exc.problems and all(p.startswith("post-case.yaml") for p in exc.problems)
        else:
            assert definition.slug == "post-case"

    mangled()
