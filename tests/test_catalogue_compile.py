"""The message catalogue is compiled by every process that starts: many at once must all succeed."""

from __future__ import annotations

import multiprocessing
import shutil

from babel.messages.mofile import read_mo

from feedback import i18n


def _compile_after(barrier, folder) -> None:
    i18n.TRANSLATIONS = folder
    barrier.wait()  # all start writing at the same moment, as gunicorn's workers do
    i18n.compile_catalogues()


def test_concurrent_compiles_all_succeed_and_leave_a_whole_catalogue(tmp_path):
    folder = tmp_path / "translations"
    shutil.copytree(
        i18n.TRANSLATIONS / "zh", folder / "zh", ignore=shutil.ignore_patterns("*.mo", "*.tmp")
    )
    context = multiprocessing.get_context("fork")
    processes = 40
    barrier = context.Barrier(processes)
    workers = [
        context.Process(target=_compile_after, args=(barrier, folder)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * processes
    mo = folder / "zh" / "LC_MESSAGES" / "messages.mo"
    with mo.open("rb") as handle:
        catalog = read_mo(handle)
    assert catalog.get("Wrong username or password.").string
    assert sorted(p.name for p in mo.parent.iterdir()) == ["messages.mo", "messages.po"]
