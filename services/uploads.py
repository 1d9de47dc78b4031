"""Uploaded files (collection receipts, inspection attachments, write-off evidence).

A file is accepted by its CONTENT (magic bytes: PDF, JPEG or PNG), never by its name or the
type the browser declares. It is streamed to a temp file in UPLOAD_FOLDER (outside the
static folder) while its size and SHA-256 are computed, then renamed atomically to a
generated name. A refused file leaves nothing behind. Files are served back only through
`send_stored`, as attachments with a fixed content type."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass

from flask import abort, current_app, send_file

from services import BusinessError

CHUNK = 64 * 1024
# (content type, extension, magic bytes at offset 0)
SIGNATURES = (
    ("application/pdf", ".pdf", b"%PDF-"),
    ("image/jpeg", ".jpg", b"\xff\xd8\xff"),
    ("image/png", ".png", b"\x89PNG\r\n\x1a\n"),
)
SNIFF_BYTES = max(len(sig) for _, _, sig in SIGNATURES)
EXTENSIONS = {ctype: ext for ctype, ext, _ in SIGNATURES}
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(pdf|jpg|png)$")
MAX_NAME_LENGTH = 120

NO_FILE = "请选择要上传的文件"
EMPTY = "上传的文件是空的(0 字节),请重新选择文件"
WRONG_TYPE = "文件类型不支持:只能上传 PDF、JPG 或 PNG 文件(按文件内容识别,修改扩展名无效)"


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_name: str
    size: int
    sha256: str
    content_type: str


def _size_label(n: int) -> str:
    mb = 1024 * 1024
    if n >= mb:
        return f"{n / mb:g} MB"
    return f"{n / 1024:g} KB"


def sniff(head: bytes) -> str | None:
    """The content type of a file starting with `head`, or None when not accepted."""
    for ctype, _, sig in SIGNATURES:
        if head.startswith(sig):
            return ctype
    return None


def display_name(raw: str | None, content_type: str | None = None) -> str:
    """The uploader's file name, for display only: no directories (`../`, `\\`, drive
    letters), no control characters, bounded length; the extension follows the content."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.replace(":", "_").strip().lstrip(".").strip()
    stem, _, ext = name.rpartition(".")
    if not stem:  # no extension at all
        stem, ext = name, ""
    stem = stem[:MAX_NAME_LENGTH].strip() or "文件"
    proper = EXTENSIONS.get(content_type or "")
    if proper:
        return stem + proper
    return stem + ("." + ext[:10] if ext else "")


def upload_folder() -> str:
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    return folder


def store_upload(file_storage, *, max_bytes: int | None = None) -> StoredFile:
    """Validate and store one uploaded file (a werkzeug FileStorage). Raises BusinessError
    with a Chinese message when the file is missing, empty, too large or not PDF/JPEG/PNG;
    nothing is stored then."""
    if file_storage is None or not (getattr(file_storage, "filename", "") or "").strip():
        raise BusinessError(NO_FILE)
    limit = max_bytes if max_bytes is not None else current_app.config["MAX_UPLOAD_BYTES"]
    folder = upload_folder()
    fd, tmp_path = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
    try:
        digest, size, head = hashlib.sha256(), 0, b""
        stream = file_storage.stream
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise BusinessError(f"文件过大:最大允许 {_size_label(limit)}")
                if len(head) < SNIFF_BYTES:
                    head += chunk[:SNIFF_BYTES - len(head)]
                    if len(head) >= SNIFF_BYTES and sniff(head) is None:
                        raise BusinessError(WRONG_TYPE)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise BusinessError(EMPTY)
        content_type = sniff(head)
        if content_type is None:
            raise BusinessError(WRONG_TYPE)
        stored_name = uuid.uuid4().hex + EXTENSIONS[content_type]
        os.replace(tmp_path, os.path.join(folder, stored_name))
    except BaseException:
        try:
            os.unlink(tmp_path)
        except FileNotFoundError:
            pass
        raise
    return StoredFile(stored_name=stored_name,
                      original_name=display_name(file_storage.filename, content_type),
                      size=size, sha256=digest.hexdigest(), content_type=content_type)


def stored_path(stored_name: str) -> str:
    """The path of a stored file; only generated names are accepted (no path tricks)."""
    if not STORED_NAME.match(stored_name or ""):
        raise BusinessError("文件名无效")
    return os.path.join(upload_folder(), stored_name)


def discard(stored_name: str) -> None:
    """Remove a stored file whose database row was not written (best effort)."""
    try:
        os.unlink(stored_path(stored_name))
    except (FileNotFoundError, BusinessError):
        pass


def send_stored(stored_name: str, download_name: str, content_type: str):
    """A download response for a stored file: always an attachment, with the type the
    content was recognised as, never sniffed by the browser, never cached by proxies."""
    try:
        path = stored_path(stored_name)
    except BusinessError:
        abort(404)
    if not os.path.isfile(path):
        abort(404)
    ctype = content_type if content_type in EXTENSIONS else "application/octet-stream"
    response = send_file(path, mimetype=ctype, as_attachment=True,
                         download_name=display_name(download_name, ctype if ctype in EXTENSIONS else None),
                         conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
