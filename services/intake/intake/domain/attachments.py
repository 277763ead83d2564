"""What may be attached to a case: size and type limits, with the type checked against the bytes."""

from __future__ import annotations

from contracts.intake import ATTACHMENT_TYPES

from .errors import Refused, invalid

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Leading bytes of each binary type: a file must be what it says it is.
MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "application/gzip": (b"\x1f\x8b",),
}


def check_attachment(filename: str, content_type: str, content: bytes) -> None:
    if not content:
        raise invalid("the file is empty", "file")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise Refused(413, "Content Too Large", f"attachments are limited to {MAX_ATTACHMENT_BYTES} bytes", "file")
    if content_type not in ATTACHMENT_TYPES:
        raise Refused(415, "Unsupported Media Type",
                      f"{content_type} is not accepted; accepted: {', '.join(ATTACHMENT_TYPES)}", "file")
    if content_type == "text/plain":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid("a text/plain attachment must be UTF-8", "file") from exc
    elif not content.startswith(MAGIC[content_type]):
        raise invalid(f"the file's content is not {content_type}", "file")
    if not filename or len(filename) > 255 or "/" in filename or "\\" in filename or "\x00" in filename:
        raise invalid("the file name must be 1-255 characters without path separators", "file")
