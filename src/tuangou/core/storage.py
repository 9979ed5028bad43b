"""Where uploaded files live (after-sale photos, the photos of posts and reviews): a small
:class:`Storage` protocol (ENGINEERING.md rule 7).

:class:`LocalDiskStorage` is the default: files under ``TUANGOU_UPLOAD_DIR`` (default: an
``uploads`` directory next to a SQLite database file, else in the current directory), with
random names of the storage's choosing. The client's file name is never used; keys are
checked against the names the storage makes, so no key can reach outside the directory. An
object store (S3, OSS) plugs in with :func:`set_storage`.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url

from tuangou.core.config import get_settings

_KEY = re.compile(r"[0-9a-f]{32}\.(jpg|png|webp)")


class StoredFileMissing(LookupError):
    """No file under that key: the caller answers with its own "not found"."""


class Storage(Protocol):
    def put(self, data: bytes, *, suffix: str) -> str:
        """Store ``data``; return its key (a new random name ending in ``suffix``)."""
        ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalDiskStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise StoredFileMissing(key)
        return self.root / key[:2] / key

    def put(self, data: bytes, *, suffix: str) -> str:
        key = secrets.token_hex(16) + suffix
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written to a temporary file and renamed: a reader never sees half a photo.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise StoredFileMissing(key) from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def default_root() -> Path:
    settings = get_settings()
    if settings.upload_dir:
        return Path(settings.upload_dir)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).resolve().parent / "uploads"
    return Path("uploads")


_storage: Storage | None = None


def get_storage() -> Storage:
    """The configured storage (made on first use, from the current settings)."""
    return _storage if _storage is not None else LocalDiskStorage(default_root())


def set_storage(storage: Storage | None) -> None:
    """Use another storage (an object store; tests); None goes back to the default."""
    global _storage
    _storage = storage
