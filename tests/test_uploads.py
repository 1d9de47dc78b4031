"""Uploads are judged by content: PDF, JPEG and PNG are stored under a generated name with
size and SHA-256; everything else is refused with a clear message and leaves nothing on disk.
Stored files are served only to logged-in staff whose roles allow the download."""
import hashlib
import io
import os

import pytest
from werkzeug.datastructures import FileStorage

from admin_app.extensions import db
from services import BusinessError
from services.uploads import display_name, send_stored, store_upload
from tests.test_collection import make_overdue_loan, record

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32


def upload(body: bytes, name: str, declared: str = "application/octet-stream") -> FileStorage:
    return FileStorage(stream=io.BytesIO(body), filename=name, content_type=declared)


@pytest.fixture
def folder(app):
    return app.config["UPLOAD_FOLDER"]


def listing(folder):
    return sorted(os.listdir(folder))


@pytest.mark.parametrize("body,name,ctype,ext", [
    (PDF, "催收函.pdf", "application/pdf", ".pdf"),
    (JPEG, "photo.JPG", "image/jpeg", ".jpg"),
    (PNG, "scan.png", "image/png", ".png"),
])
def test_pdf_jpeg_png_are_stored_under_a_generated_name_with_size_and_hash(app, folder, body, name, ctype, ext):
    with app.test_request_context():
        stored = store_upload(upload(body, name))
    assert stored.content_type == ctype
    assert stored.stored_name.endswith(ext) and len(stored.stored_name) == 32 + len(ext)
    assert stored.size == len(body)
    assert stored.sha256 == hashlib.sha256(body).hexdigest()
    with open(os.path.join(folder, stored.stored_name), "rb") as fh:
        assert fh.read() == body
    assert not any(n.startswith(".upload-") for n in listing(folder))
    static = os.path.join(app.root_path, "static")
    assert not os.path.abspath(folder).startswith(os.path.abspath(static))


def test_the_declared_type_and_name_do_not_matter_only_the_content(app):
    with app.test_request_context():
        stored = store_upload(upload(PNG, "looks-like.pdf", declared="application/pdf"))
    assert stored.content_type == "image/png"
    assert stored.original_name == "looks-like.png"


BAD_FILES = {
    "wrong type (plain text)": (b"hello, this is a text file", "notes.txt", "文件类型不支持"),
    "renamed Windows executable": (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "receipt.pdf", "文件类型不支持"),
    "renamed ELF executable": (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, "receipt.png", "文件类型不支持"),
    "HTML named .jpg": (b"<html><script>alert(1)</script></html>", "receipt.jpg", "文件类型不支持"),
    "SVG named .png": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "a.png", "文件类型不支持"),
    "fake extension (zip named .pdf)": (b"PK\x03\x04" + b"\x00" * 100, "contract.pdf", "文件类型不支持"),
    "PDF magic not at the start": (b"  %PDF-1.4 shifted", "shifted.pdf", "文件类型不支持"),
    "empty": (b"", "empty.pdf", "文件是空的"),
    "too short to be anything": (b"\xff\xd8", "tiny.jpg", "文件类型不支持"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_with_a_message_and_nothing_is_stored(app, folder, case):
    body, name, message = BAD_FILES[case]
    before = listing(folder)
    with app.test_request_context(), pytest.raises(BusinessError, match=message) as err:
        store_upload(upload(body, name, declared="application/pdf"))
    assert listing(folder) == before
    if message == "文件类型不支持":
        assert "PDF、JPG 或 PNG" in str(err.value)


def test_oversized_file_is_refused_from_configuration_and_nothing_stored(app, folder):
    before = listing(folder)
    limit = app.config["MAX_UPLOAD_BYTES"]
    assert limit == 10 * 1024 * 1024
    with app.test_request_context(), pytest.raises(BusinessError, match="文件过大:最大允许 10 MB"):
        store_upload(upload(PDF + b"\x00" * limit, "big.pdf"))
    with app.test_request_context(), pytest.raises(BusinessError, match="文件过大:最大允许 1 KB"):
        store_upload(upload(PNG + b"\x00" * 1024, "big.png"), max_bytes=1024)
    assert listing(folder) == before


def test_missing_file_is_refused(app):
    with app.test_request_context():
        with pytest.raises(BusinessError, match="请选择要上传的文件"):
            store_upload(None)
        with pytest.raises(BusinessError, match="请选择要上传的文件"):
            store_upload(upload(PDF, ""))


@pytest.mark.parametrize("raw,expected", [
    ("../../etc/passwd", "passwd.pdf"),
    ("..\\..\\windows\\system32\\evil.exe", "evil.pdf"),
    ("C:\\Users\\me\\回执.pdf", "回执.pdf"),
    ("/var/www/static/shell.php.pdf", "shell.php.pdf"),
    (".htaccess", "htaccess.pdf"),
    ("a\x00b\r\n.pdf", "ab.pdf"),
    ("..", "文件.pdf"),
])
def test_path_tricks_in_the_name_are_stripped_for_display(app, folder, raw, expected):
    assert display_name(raw, "application/pdf") == expected
    with app.test_request_context():
        stored = store_upload(upload(PDF, raw))
    assert stored.original_name == expected
    assert os.path.dirname(os.path.join(folder, stored.stored_name)) == folder
    assert os.path.exists(os.path.join(folder, stored.stored_name))


def test_send_stored_is_an_attachment_never_sniffed_and_refuses_path_tricks(app):
    with app.test_request_context():
        stored = store_upload(upload(PDF, "回执.pdf"))
        response = send_stored(stored.stored_name, "回执.pdf", stored.content_type)
        assert response.mimetype == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("attachment")
        response.close()
        from werkzeug.exceptions import NotFound

        for bad in ("../secret.pdf", "x/../../" + stored.stored_name, stored.stored_name + "/"):
            with pytest.raises(NotFound):
                send_stored(bad, "x.pdf", "application/pdf")


# ---- uploads through the screen and downloads through 催收查询 -----------------------------
def _visit(users):
    loan = make_overdue_loan("上门客户")
    visit = record(loan, method="visit", collector=users["collector"])
    db.session.commit()
    return visit


def _post_file(client, url, body, name):
    data = {"receipt": (io.BytesIO(body), name), "csrf_token": client.csrf_from(client.get(url))}
    return client.client.post(url, data=data, content_type="multipart/form-data", follow_redirects=True)


@pytest.mark.parametrize("case", ["renamed Windows executable", "empty", "HTML named .jpg"])
def test_upload_screen_refuses_bad_files_with_the_message(users, client_for, folder, case):
    visit = _visit(users)
    before = listing(folder)
    body, name, message = BAD_FILES[case]
    c = client_for("collector")
    r = _post_file(c, f"/receipt_borrower/upload/{visit.id}", body, name)
    html = r.get_data(as_text=True)
    assert "上传失败" in html and message in html
    assert listing(folder) == before
    db.session.expire_all()
    assert db.session.get(type(visit), visit.id).has_receipt is False


def test_upload_without_csrf_is_refused(users, client_for):
    visit = _visit(users)
    c = client_for("collector")
    r = c.client.post(f"/receipt_borrower/upload/{visit.id}",
                      data={"receipt": (io.BytesIO(PNG), "a.png")}, content_type="multipart/form-data")
    assert r.status_code == 400
    db.session.expire_all()
    assert db.session.get(type(visit), visit.id).has_receipt is False


def test_body_over_the_request_limit_is_refused_by_the_server(users, client_for, app, folder):
    visit = _visit(users)
    before = listing(folder)
    c = client_for("collector")
    big = PNG + b"\x00" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    r = _post_file(c, f"/receipt_borrower/upload/{visit.id}", big, "big.png")
    assert r.status_code == 413
    assert listing(folder) == before


def test_download_only_for_logged_in_staff_with_access(users, client_for):
    visit = _visit(users)
    c = client_for("collector")
    r = _post_file(c, f"/receipt_borrower/upload/{visit.id}", PDF, "../上门回执.pdf")
    assert "已上传" in r.get_data(as_text=True)
    url = f"/collection_query/receipt/{visit.id}"

    ok = c.get(url)
    assert ok.status_code == 200 and ok.data == PDF
    assert ok.headers["Content-Disposition"].startswith("attachment")
    assert ok.headers["X-Content-Type-Options"] == "nosniff"
    for role in ("officer", "admin"):
        assert client_for(role).get(url).status_code == 200
    for role in ("risk_checker", "risk_approver", "reviewer"):
        assert client_for(role).get(url).status_code == 403
    anon = client_for().get(url)
    assert anon.status_code == 302 and "/login" in anon.location
    assert c.get("/collection_query/receipt/999999").status_code == 404


def test_download_refused_when_the_user_may_not_see_the_record(users, client_for, monkeypatch):
    """The receipt follows its record: a collection the screen does not list for this user
    (here: a screen narrowed to other records) is not served, whatever the URL."""
    from views.collection import CollectionQueryView

    visit = _visit(users)
    c = client_for("collector")
    _post_file(c, f"/receipt_borrower/upload/{visit.id}", PDF, "回执.pdf")
    url = f"/collection_query/receipt/{visit.id}"
    assert c.get(url).status_code == 200
    monkeypatch.setattr(CollectionQueryView, "base_filters", lambda self: [type(visit).id != visit.id])
    assert c.get(url).status_code == 404
