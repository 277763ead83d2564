"""Attachments: stored outside the database, typed and size-limited, checksum-verified on download."""

from __future__ import annotations

import hashlib

import pytest

pytestmark = pytest.mark.integration
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def upload(api, user: str, case: dict, name: str, content: bytes, content_type: str, internal: bool = False):
    return api.http.post(f"/cases/{case['id']}/attachments", headers=api.auth(user),
                         files={"file": (name, content, content_type)}, data={"internal": str(internal).lower()})


def test_upload_list_and_download_round_trip(api) -> None:
    case = api.open_case()
    added = upload(api, "customer.a", case, "screen.png", PNG, "image/png")
    assert added.status_code == 201, added.text
    meta = added.json()
    assert (meta["size"], meta["sha256"]) == (len(PNG), hashlib.sha256(PNG).hexdigest())
    assert [a["id"] for a in api.get("agent", f"/cases/{case['id']}/attachments").json()] == [meta["id"]]
    download = api.get("customer.a", f"/cases/{case['id']}/attachments/{meta['id']}")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert "screen.png" in download.headers["content-disposition"]
    assert api.get("customer.b", f"/cases/{case['id']}/attachments/{meta['id']}").status_code == 404
    assert "attachment_added" in [e["kind"] for e in api.get("agent", f"/cases/{case['id']}/timeline").json()]


def test_limits_on_type_content_and_size(api) -> None:
    case = api.open_case()
    assert upload(api, "agent", case, "x.exe", b"MZ\x90\x00", "application/x-msdownload").status_code == 415
    lying = upload(api, "agent", case, "fake.png", b"not a png at all", "image/png")
    assert lying.status_code == 422 and "not image/png" in lying.json()["detail"]
    assert upload(api, "agent", case, "empty.txt", b"", "text/plain").status_code == 422
    assert upload(api, "agent", case, "bad.txt", b"\xff\xfe\xfa", "text/plain").status_code == 422
    huge = upload(api, "agent", case, "big.txt", b"a" * (10 * 1024 * 1024 + 1), "text/plain")
    assert huge.status_code == 413
    assert api.get("agent", f"/cases/{case['id']}/attachments").json() == []


def test_internal_attachments_are_hidden_from_customers(api) -> None:
    case = api.open_case()
    internal = upload(api, "engineer.n", case, "trace.txt", b"sip trace", "text/plain", internal=True).json()
    assert api.get("customer.a", f"/cases/{case['id']}/attachments").json() == []
    assert api.get("customer.a", f"/cases/{case['id']}/attachments/{internal['id']}").status_code == 404
    assert upload(api, "customer.a", case, "x.txt", b"x", "text/plain", internal=True).status_code == 403


def test_a_corrupted_file_is_never_served(api, system) -> None:
    case = api.open_case()
    meta = upload(api, "agent", case, "log.txt", b"original log line", "text/plain").json()
    stored = system[3] / meta["id"][:2] / meta["id"]
    stored.write_bytes(b"tampered log line")
    try:
        answer = api.get("agent", f"/cases/{case['id']}/attachments/{meta['id']}")
        assert answer.status_code == 500 and "checksum" in answer.json()["detail"]
    finally:
        stored.write_bytes(b"original log line")  # the API fuzzing later in the session must not meet it
    assert api.get("agent", f"/cases/{case['id']}/attachments/{meta['id']}").content == b"original log line"


def test_a_retried_upload_with_the_same_key_stores_one_file(api) -> None:
    case = api.open_case()
    key = {"Idempotency-Key": "upload-once"}
    first = api.http.post(f"/cases/{case['id']}/attachments", headers=api.auth("agent", **key),
                          files={"file": ("a.txt", b"hello", "text/plain")})
    again = api.http.post(f"/cases/{case['id']}/attachments", headers=api.auth("agent", **key),
                          files={"file": ("a.txt", b"hello", "text/plain")})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert len(api.get("agent", f"/cases/{case['id']}/attachments").json()) == 1
