"""gzip for text answers, in one place: an after-request hook, and the pieces the survey's fast
path uses to send a cached page compressed without compressing it again per request.

What is compressed: a 200 answer of a text type (HTML, CSS, JS, JSON, SVG, CSV, plain text,
XML) of at least ``MIN_BYTES``, to a client whose Accept-Encoding takes gzip. Not compressed:
images and PDFs (already compressed), streamed answers (CSV exports written as they go), ranges
(206), answers already encoded, tiny bodies (the gzip header would eat the gain). Every answer
of a compressible type says ``Vary: Accept-Encoding``, so a shared cache keeps both forms; a
compressed answer's ETag becomes weak (the same resource, other bytes), which keeps 304s
working.

The fast path (``web/fastpath.py``) caches a rendered page with stand-ins for the token and the
CSRF token: ``deflate_parts`` compresses the parts between the stand-ins once (each ended by a
sync flush, so they can be joined), and ``gzip_joined`` puts them back per request around the
real tokens, sent as stored (uncompressed) deflate blocks: a valid gzip stream at the cost of a
CRC of the page.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Sequence

from flask import Flask, request

COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
        "text/csv",
        "text/plain",
        "application/xml",
        "text/xml",
    }
)
MIN_BYTES = 512
LEVEL = 6
# A gzip member's header: deflate, no name, mtime 0 (the same bytes every time), unknown OS.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
FINAL_BLOCK = b"\x03\x00"  # an empty last block (fixed Huffman codes: just the end code)


def init_app(app: Flask) -> None:
    """Compress text answers after every view (and after the fast path's own answer)."""
    app.after_request(compress)


def accepts_gzip() -> bool:
    """Whether this request's client takes a gzip body."""
    return request.accept_encodings["gzip"] > 0


def compress(response):
    """The answer gzipped when it should be (see the module's docstring); else as it is."""
    # Already encoded (the fast path's gzipped page, which says Vary itself): nothing to do.
    if "Content-Encoding" in response.headers or response.mimetype not in COMPRESSIBLE:
        return response
    response.vary.add("Accept-Encoding")
    if (
        response.status_code != 200
        or (response.is_streamed and not response.direct_passthrough)
        or "Content-Range" in response.headers
        or not accepts_gzip()
    ):
        return response
    response.direct_passthrough = False  # a static file: read it here (they are small)
    body = response.get_data()
    if len(body) < MIN_BYTES:
        return response
    response.set_data(gzip_bytes(body))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)
    return response


def gzip_bytes(body: bytes) -> bytes:
    """``body`` as one gzip member, the same bytes for the same body."""
    return gzip_joined(deflate_parts([body]), [], body)


def deflate_parts(parts: Sequence[bytes]) -> list[bytes]:
    """Each part as raw deflate blocks ended by a sync flush (byte-aligned, not final), so
    parts and stored blocks can follow one another in one stream."""
    out = []
    for part in parts:
        packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        out.append(packer.compress(part) + packer.flush(zlib.Z_SYNC_FLUSH) if part else b"")
    return out


def stored_block(data: bytes) -> bytes:
    """``data`` as stored deflate blocks (not final), each at most 65535 bytes."""
    blocks = []
    for start in range(0, len(data), 0xFFFF):
        chunk = data[start : start + 0xFFFF]
        blocks.append(b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(blocks)


def gzip_joined(compressed: Sequence[bytes], between: Sequence[bytes], body: bytes) -> bytes:
    """One gzip member of ``compressed[0] between[0] compressed[1] ...`` (``between`` sent
    uncompressed); ``body`` is the whole uncompressed text, for the trailer's CRC and size."""
    pieces = [GZIP_HEADER]
    for index, part in enumerate(compressed):
        pieces.append(part)
        if index < len(between):
            pieces.append(stored_block(between[index]))
    pieces.append(FINAL_BLOCK)
    pieces.append(struct.pack("<II", zlib.crc32(body), len(body) & 0xFFFFFFFF))
    return b"".join(pieces)


class SplitPage:
    """A cached page cut at its stand-ins: the page, and its parts between them compressed."""

    __slots__ = ("page", "compressed", "markers")

    def __init__(self, page: bytes, stand_ins: Sequence[bytes]):
        pieces = re.split(b"(" + b"|".join(map(re.escape, stand_ins)) + b")", page)
        self.page = page
        self.compressed = deflate_parts(pieces[0::2])
        self.markers = pieces[1::2]

    def gzipped(self, real: dict[bytes, bytes], body: bytes) -> bytes:
        """``body`` (from ``body(real)``) as gzip, from the parts compressed once."""
        return gzip_joined(self.compressed, [real[m] for m in self.markers], body)
