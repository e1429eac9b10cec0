"""Content-addressed evidence store: bytes kept on disk under their SHA-256.

`put` writes to a temporary file in the same directory, fsyncs it and renames it into place,
so a stored blob is complete or absent, never half-written, and the same bytes are stored
once. Paths come from the digest alone (`ab/cd/abcd...`); names supplied by users are kept
only as metadata after `safe_name` strips directories and control characters, so no name can
reach outside the store.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

_DIGEST = re.compile(r"[0-9a-f]{64}")
MAX_NAME = 255


class BlobError(ValueError):
    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


def digest_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise BlobError("digest must be 64 lower-case hex characters", "证据摘要格式有误。")
    return digest


def safe_name(name: str | None, fallback: str = "attachment") -> str:
    """A display name without directories, control or separator characters.

    "../../etc/passwd" becomes "passwd", "C:\\x\\a.png" becomes "a.png"; an empty result
    falls back to `fallback`. The name never becomes a path: blobs live under their digest.
    """
    if not name:
        return fallback
    text = unicodedata.normalize("NFC", str(name)).replace("\\", "/")
    text = text.rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = text.strip().lstrip(".").strip()
    if not text:
        return fallback
    return text[:MAX_NAME]


class BlobStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        check_digest(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, content: bytes) -> str:
        """Store `content` (idempotent) and return its digest."""
        digest = digest_of(content)
        target = self.path(digest)
        if target.is_file() and target.stat().st_size == len(content):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`; re-hashed, so a corrupted file is never served."""
        path = self.path(digest)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise BlobError(f"no blob {digest}", "未找到该证据文件。") from None
        if digest_of(content) != digest:
            raise BlobError(f"blob {digest} is corrupted on disk", "证据文件已损坏。")
        return content

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()
