"""Attachment files on a filesystem directory (`SD_ATTACHMENTS_DIR`), named by their id.

Written to a temporary name, flushed, then renamed, so a crash never leaves half a file under a
real name; read back with the checksum verified, so silent corruption is caught, not served.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from uuid import UUID


class CorruptAttachment(Exception):
    pass


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, attachment_id: UUID) -> Path:
        name = str(attachment_id)
        return self.root / name[:2] / name

    def put(self, attachment_id: UUID, content: bytes) -> None:
        path = self._path(attachment_id)
        path.parent.mkdir(exist_ok=True)
        temporary = path.with_suffix(".part")
        with open(temporary, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.rename(path)

    def get(self, attachment_id: UUID, sha256: str) -> bytes:
        content = self._path(attachment_id).read_bytes()
        if hashlib.sha256(content).hexdigest() != sha256:
            raise CorruptAttachment(f"attachment {attachment_id} does not match its checksum")
        return content
