"""Object bodies: immutable byte sequences held once.

A body is a tuple of segments, each ``bytes`` or a spooled temporary file. A stream is read in
chunks into one segment (MD5 computed on the way), so a large upload is never held twice; a
completed multipart object is its parts' segments, and a copy shares its source's segments.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, BinaryIO, Union

#: Bodies read from a stream stay in memory up to this size (bytes), then spill to a file.
SPOOL_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024



class _Blob:
    """A body segment kept in a file of the durable store (``path``): opened for each read,
    so a bucket of many objects holds no file descriptors."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def pread(self, size: int, offset: int) -> bytes:
        try:
            with open(self.path, "rb") as file:
                return _pread(file, size, offset)
        except FileNotFoundError:
            from ..errors import ServiceUnavailable

            raise ServiceUnavailable(
                f"The object's body file {self.path} is gone (the version was deleted while "
                "it was read, or the file was removed)."
            ) from None


_Segment = Union[bytes, "IO[bytes]", _Blob]


class _Body:
    """The bytes of one object (or part): ``size`` bytes, MD5 ``md5`` (16 raw bytes)."""

    __slots__ = ("segments", "sizes", "size", "_md5")

    def __init__(
        self, segments: tuple[_Segment, ...], sizes: tuple[int, ...], md5: bytes | None
    ) -> None:
        self.segments = segments
        self.sizes = sizes
        self.size = sum(sizes)
        self._md5 = md5

    @property
    def known_md5(self) -> bytes | None:
        """The MD5 if already known (never computed here)."""
        return self._md5

    @property
    def md5(self) -> bytes:
        """The MD5 of the bytes (16 raw bytes); for a joined body computed on first use (only
        a copy of a multipart object needs it)."""
        if self._md5 is None:
            digest = hashlib.md5()
            for chunk in self.chunks(0, self.size):
                digest.update(chunk)
            self._md5 = digest.digest()
        return self._md5

    @classmethod
    def of(cls, data: bytes | bytearray | memoryview | BinaryIO | IO[bytes]) -> _Body:
        """A body from bytes (kept as given when ``bytes``) or from a readable binary stream."""
        if isinstance(data, bytes):
            return cls((data,), (len(data),), hashlib.md5(data).digest())
        if isinstance(data, (bytearray, memoryview)):
            raw = bytes(data)
            return cls((raw,), (len(raw),), hashlib.md5(raw).digest())
        if not hasattr(data, "read"):
            raise TypeError(f"a body is bytes or a binary stream, got {type(data).__name__}")
        # Chunks stay in memory up to SPOOL_BYTES; past that they all go to a temporary file.
        # (Not SpooledTemporaryFile: its roll-over copies the whole buffer once more.)
        digest = hashlib.md5()
        held: list[bytes] = []
        size = 0
        spill: IO[bytes] | None = None
        while chunk := data.read(_CHUNK):
            if not isinstance(chunk, bytes):
                raise TypeError("a body stream must yield bytes")
            digest.update(chunk)
            size += len(chunk)
            if spill is not None:
                spill.write(chunk)
                continue
            held.append(chunk)
            if size > SPOOL_BYTES:
                spill = tempfile.TemporaryFile()
                for piece in held:
                    spill.write(piece)
                held.clear()
        if spill is None:
            raw = b"".join(held)
            return cls((raw,), (size,), digest.digest())
        spill.flush()  # readers use os.pread on the descriptor, past Python's buffer
        return cls((spill,), (size,), digest.digest())

    @classmethod
    def joined(cls, parts: list[_Body]) -> _Body:
        """The concatenation of ``parts``, sharing their segments (no bytes are copied)."""
        segments = tuple(s for p in parts for s in p.segments)
        sizes = tuple(n for p in parts for n in p.sizes)
        return cls(segments, sizes, None)

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """The bytes ``[start, end)`` as chunks of at most 1 MiB each."""
        offset = 0
        for segment, size in zip(self.segments, self.sizes, strict=True):
            lo, hi = max(start - offset, 0), min(end - offset, size)
            offset += size
            if lo >= hi:
                continue
            if isinstance(segment, bytes):
                for at in range(lo, hi, _CHUNK):
                    yield segment[at : min(at + _CHUNK, hi)]
            else:
                for at in range(lo, hi, _CHUNK):
                    yield _read_segment(segment, min(_CHUNK, hi - at), at)

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        """The bytes ``[start, end)`` (default: all) as one ``bytes``."""
        stop = self.size if end is None else end
        if len(self.segments) == 1 and isinstance(self.segments[0], bytes):
            data = self.segments[0]
            return data if (start, stop) == (0, len(data)) else data[start:stop]
        return b"".join(self.chunks(start, stop))

    def reader(self, start: int, end: int) -> _Reader:
        """A reader of the bytes ``[start, end)``, reading as it is read."""
        return _Reader(self, start, end)


def _read_segment(segment: IO[bytes] | _Blob, size: int, offset: int) -> bytes:
    if isinstance(segment, _Blob):
        return segment.pread(size, offset)
    return _pread(segment, size, offset)


def _pread(segment: IO[bytes], size: int, offset: int) -> bytes:
    """``size`` bytes of a file segment at ``offset``, without moving a shared file position
    (several readers, on several threads, read one body at once)."""
    pread = getattr(os, "pread", None)
    if pread is not None:
        try:
            fd = segment.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            fd = -1
        if fd >= 0:
            data: bytes = pread(fd, size, offset)
            if len(data) == size or not data:
                return data
            pieces = [data]
            got = len(data)
            while got < size:  # a short read (rare on regular files): read on
                more: bytes = pread(fd, size - got, offset + got)
                if not more:
                    break
                pieces.append(more)
                got += len(more)
            return b"".join(pieces)
    with _SEEK_LOCK:  # no pread (Windows) or no descriptor: seek and read under one lock
        segment.seek(offset)
        return segment.read(size)


_SEEK_LOCK = threading.Lock()


class _Reader:
    """Reads ``[start, end)`` of a body on demand: at most 1 MiB is fetched a call when no
    size is asked, so a large body is never held twice."""

    __slots__ = ("_body", "_at", "_end", "_start", "closed")

    def __init__(self, body: _Body, start: int, end: int) -> None:
        self._body = body
        self._start = start
        self._at = start
        self._end = end
        self.closed = False

    @property
    def size(self) -> int:
        return self._end - self._start

    def tell(self) -> int:
        return self._at - self._start

    def close(self) -> None:
        self.closed = True

    def read(self, amt: int | None = -1) -> bytes:
        if self.closed:
            return b""
        left = self._end - self._at
        want = left if amt is None or amt < 0 else min(amt, left)
        if want <= 0:
            return b""
        data = self._slice(self._at, self._at + want)
        self._at += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        n = len(data)
        memoryview(buffer)[:n] = data
        return n

    def _slice(self, start: int, end: int) -> bytes:
        body = self._body
        pieces: list[bytes] = []
        offset = 0
        for segment, size in zip(body.segments, body.sizes, strict=True):
            lo, hi = max(start - offset, 0), min(end - offset, size)
            offset += size
            if lo >= hi:
                continue
            if isinstance(segment, bytes):
                pieces.append(segment if (lo, hi) == (0, size) else segment[lo:hi])
            else:
                pieces.append(_read_segment(segment, hi - lo, lo))
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)
