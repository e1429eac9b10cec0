"""A minimal RESP2 connection for the two scripts on the guard's heartbeat path.

Measured on the 2-core machine: a Redis round trip through redis-py costs about 105 µs of
client CPU, a plain socket with this encoder and parser about 16 µs (docs/benchmarks.md). A
heartbeat makes two round trips (`EVALSHA` of the load script, then of the compare-and-set),
so this is the difference between ~1,000 and several thousand heartbeats a second per core.
Everything else (setup, TTLs, reads that are not on the hot path) stays on redis-py.

One connection per thread (the event loop's thread runs the fast path; routed endpoints run in
the thread pool). Only what those scripts need is parsed: simple strings, errors, integers,
bulk strings (nil as None) and arrays of those. Any socket error or malformed reply closes the
connection and raises `RespUnavailable`; the next call reconnects.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit


class RespUnavailable(OSError):
    """The Redis server could not be reached or answered something unparseable."""


class RespError(Exception):
    """An error reply (`-ERR ...`) from Redis."""


def encode(*parts: bytes | str | int) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    append = out.append
    for part in parts:
        data = part if type(part) is bytes else str(part).encode()
        append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.pos = 0

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RespUnavailable("connection closed by Redis")
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0

    def line(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = self.buf[self.pos : end]
                self.pos = end + 2
                return line
            self._fill()

    def exact(self, n: int) -> bytes:
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = self.buf[self.pos : self.pos + n]
        self.pos += n + 2
        return data

    def reply(self) -> Any:
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            return RespError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RespUnavailable(f"unexpected reply type {kind!r}")


class RespConnection:
    """Per-thread sockets to the Redis of `url` (redis://[user:password@]host:port/db)."""

    def __init__(self, url: str, *, connect_timeout: float = 1.0, timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError("the heartbeat fast path supports redis:// URLs only")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.db = int(parts.path.lstrip("/") or 0)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._local = threading.local()

    def _connect(self) -> _Reader:
        try:
            sock = socket.create_connection((self.host, self.port), self.connect_timeout)
            sock.settimeout(self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            raise RespUnavailable(str(exc)) from exc
        reader = _Reader(sock)
        setup: list[bytes] = []
        if self.password is not None:
            args = [self.username, self.password] if self.username else [self.password]
            setup.append(encode("AUTH", *args))
        if self.db:
            setup.append(encode("SELECT", self.db))
        for command in setup:
            sock.sendall(command)
            answer = reader.reply()
            if isinstance(answer, RespError):
                sock.close()
                raise RespUnavailable(f"Redis refused the connection setup: {answer}")
        return reader

    def call(self, *parts: bytes | str | int) -> Any:
        reader = getattr(self._local, "reader", None)
        try:
            if reader is None:
                reader = self._local.reader = self._connect()
            reader.sock.sendall(encode(*parts))
            answer = reader.reply()
        except (OSError, ValueError) as exc:
            self.drop()
            if isinstance(exc, RespUnavailable):
                raise
            raise RespUnavailable(str(exc)) from exc
        if isinstance(answer, RespError):
            raise answer
        return answer

    def evalsha(self, script: Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return self.call("EVALSHA", script.sha, len(keys), *keys, *args)
        except RespError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            return self.call("EVAL", script.source, len(keys), *keys, *args)

    def drop(self) -> None:
        reader = getattr(self._local, "reader", None)
        self._local.reader = None
        if reader is not None:
            with contextlib.suppress(OSError):
                reader.sock.close()


class Script:
    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
