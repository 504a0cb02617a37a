"""Issue 15's small things: a favicon, gzip, and the suggestion box's reply-time goal."""

from __future__ import annotations

import gzip
import http.client
import re

import pytest
from support import code_of, give, new_case, survey_path

from feedback.compression import SplitPage, gzip_bytes


def fetch(server, path: str, **headers) -> tuple[http.client.HTTPResponse, bytes]:
    """A GET over real HTTP, its body as sent (not decompressed)."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path, headers=headers)
    reply = connection.getresponse()
    body = reply.read()
    connection.close()
    return reply, body


# --- the favicon ------------------------------------------------------------------------------


def test_every_page_names_an_icon_that_exists_and_favicon_ico_is_no_404(client):
    page = client.get("/suggest/").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert href, page[:600]
    icon = client.get(href.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data().startswith(b"<svg")
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 301 and legacy.headers["Location"].endswith(href.group(1))


# --- gzip -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/suggest/", "/static/site.css", "/static/favicon.svg"])
def test_text_answers_are_gzipped_over_http_for_clients_that_take_it(live_server, path):
    plain, plain_body = fetch(live_server, path)
    assert plain.getheader("Content-Encoding") is None
    assert "Accept-Encoding" in plain.getheader("Vary", "")
    packed, packed_body = fetch(live_server, path, **{"Accept-Encoding": "gzip, deflate"})
    if len(plain_body) < 512:  # the icon: too small to be worth it
        assert packed.getheader("Content-Encoding") is None and packed_body == plain_body
        return
    assert packed.getheader("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in packed.getheader("Vary", "")
    assert int(packed.getheader("Content-Length")) == len(packed_body) < len(plain_body)
    unpacked = gzip.decompress(packed_body)
    if path == "/suggest/":  # only the CSRF token differs between two renders
        assert re.sub(rb'value="[^"]{40,}"', b"", unpacked) == re.sub(
            rb'value="[^"]{40,}"', b"", plain_body
        )
    else:
        assert unpacked == plain_body


def test_gzip_refused_by_the_client_or_images_are_sent_as_they_are(live_server):
    reply, _ = fetch(live_server, "/suggest/", **{"Accept-Encoding": "gzip;q=0, identity"})
    assert reply.getheader("Content-Encoding") is None


def test_a_compressed_static_file_still_gets_its_304(client):
    first = client.get("/static/site.css", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get(
        "/static/site.css", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert again.status_code == 304


def test_the_survey_fast_path_sends_its_cached_page_gzipped(live_server, client, api_headers):
    path = survey_path(new_case(client, api_headers, case_id="GZ-1"))
    plain, plain_body = fetch(live_server, path)
    packed, packed_body = fetch(live_server, path, **{"Accept-Encoding": "gzip"})
    assert plain.status == packed.status == 200
    assert packed.getheader("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in packed.getheader("Vary", "")
    assert gzip.decompress(packed_body) == plain_body
    assert len(packed_body) * 3 < len(plain_body)
    token = path.rsplit("/", 1)[1].encode()
    assert token in plain_body


@pytest.mark.parametrize(
    "page,real",
    [
        (b"<p>AAAtokBBBcsrfCCC tok</p>", {b"tok": b"T0K3N", b"csrf": b"c5rf"}),
        (b"tok", {b"tok": b"x" * 70000, b"csrf": b""}),
        (b"", {b"tok": b"1", b"csrf": b"2"}),
        (b"no stand-ins " * 300, {b"tok": b"1", b"csrf": b"2"}),
    ],
)
def test_a_split_page_gzips_to_the_page_with_its_real_values(page, real):
    split = SplitPage(page, (b"tok", b"csrf"))
    body = page.replace(b"tok", real[b"tok"]).replace(b"csrf", real[b"csrf"])
    assert gzip.decompress(split.gzipped(real, body)) == body
    assert gzip.decompress(gzip_bytes(body)) == body


# --- the suggestion box's reply-time goal -----------------------------------------------------


@pytest.mark.parametrize(
    "lang,words",
    [
        ("en", "We aim to give a first public reply within 5 working days"),
        ("zh_CN", "5 个工作日内"),
    ],
)
def test_the_submitter_sees_the_reply_time_goal(app, client, lang, words):
    app.config["SUGGESTION_REPLY_DAYS"] = 5
    client.get(f"/suggest/?lang={lang}")
    thanks = give(client)
    html = thanks.get_data(as_text=True)
    assert 'id="reply-goal"' in html and words in html, html[-1500:]
    status = client.get(f"/suggest/track/{code_of(thanks)}").get_data(as_text=True)
    assert 'id="reply-goal"' in status and words in status


def test_pictures_and_streamed_exports_are_not_gzipped(manager):
    png = manager.get(
        "/manage/charts/csat-trend.png?size=slot", headers={"Accept-Encoding": "gzip"}
    )
    assert png.status_code == 200 and "Content-Encoding" not in png.headers
    assert png.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
    export = manager.get("/manage/suggestions/export.csv", headers={"Accept-Encoding": "gzip"})
    assert export.status_code == 200
    body = export.get_data()
    if export.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    assert body.lstrip(b"\xef\xbb\xbf")[:1] not in (b"", b"\x1f")  # readable CSV either way
