"""Capped bodies: at most N decoded bytes, whatever a server sends or compresses."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable

# Unread bodies up to this size are drained so the connection can be reused (HTTP/1.1).
DRAIN_BYTES = 64 * 1024


class CappedBody:
    """Decodes gzip/deflate chunk by chunk and stops at `cap` decoded bytes.

    httpx decodes each network chunk whole, so a 64 KB chunk of a gzip bomb becomes ~64 MB in
    memory before any cap can act; zlib's `max_length` lets us stop inside the chunk.
    """

    def __init__(self, encoding: str, cap: int) -> None:
        self.cap = cap
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False
        self.encoding = encoding.strip().lower()
        self.decoder: zlib._Decompress | None = None
        if self.encoding in ("gzip", "x-gzip"):
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, raw: bytes) -> bool:
        """Add a raw chunk; False once the cap is reached (stop reading)."""
        if self.encoding == "deflate" and self.decoder is None and raw:
            # "deflate" is zlib-wrapped per the RFC, raw deflate on some servers.
            wrapped = len(raw) >= 2 and raw[0] & 0x0F == 8 and (raw[0] << 8 | raw[1]) % 31 == 0
            self.decoder = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        if self.decoder is None:
            self._add(raw)
            return not self.truncated
        try:
            self._add(self.decoder.decompress(raw, self.cap - self.size + 1))
            while not self.truncated and self.decoder.unconsumed_tail:
                tail = self.decoder.unconsumed_tail
                self._add(self.decoder.decompress(tail, self.cap - self.size + 1))
        except zlib.error:
            return False  # keep what decoded; a corrupt tail does not make the page absent
        return not self.truncated

    def _add(self, data: bytes) -> None:
        room = self.cap - self.size
        if len(data) > room:
            data, self.truncated = data[:room], True
        if data:
            self.chunks.append(data)
            self.size += len(data)

    def value(self) -> bytes:
        return b"".join(self.chunks)


async def read_capped(stream: AsyncIterable[bytes], encoding: str, cap: int) -> tuple[bytes, bool]:
    """At most `cap` decoded bytes of a raw (still encoded) response body."""
    body = CappedBody(encoding, cap)
    async for raw in stream:
        if not body.feed(raw):
            break
    return body.value(), body.truncated


async def drain(stream: AsyncIterable[bytes], http_version: str, length: str | None) -> None:
    """Read a small unwanted body so an HTTP/1.1 connection stays reusable."""
    if http_version != "HTTP/1.1" or not length or not length.isdigit():
        return
    if int(length) <= DRAIN_BYTES:
        async for _ in stream:
            pass
