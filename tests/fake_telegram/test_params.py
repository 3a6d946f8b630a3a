from __future__ import annotations

import httpx
import pytest

from testing.fake_telegram.params import BadRequestBody, decode_request


def encoded(**kwargs: object) -> tuple[str, bytes]:
    """Content type and body exactly as httpx (PTB's HTTP library) builds them."""
    request = httpx.Request("POST", "http://x/", **kwargs)  # type: ignore[arg-type]
    return request.headers.get("content-type", ""), request.read()


def test_form_values_are_json_except_text_parameters() -> None:
    content_type, body = encoded(
        data={
            "chat_id": "1001",
            "text": "42",
            "callback_query_id": "4000000000001",
            "disable_notification": "true",
            "reply_markup": '{"inline_keyboard": []}',
            "photo": "AgACfileid",
        }
    )
    assert content_type == "application/x-www-form-urlencoded"
    params = decode_request(content_type, body).params
    assert params == {
        "chat_id": 1001,
        "text": "42",
        "callback_query_id": "4000000000001",
        "disable_notification": True,
        "reply_markup": {"inline_keyboard": []},
        "photo": "AgACfileid",
    }


def test_multipart_keeps_text_and_files_apart() -> None:
    content_type, body = encoded(
        data={"chat_id": "1001", "caption": "Bankje 😀\r\nkapot"},
        files={"photo": ("bank.jpg", b"\xff\xd8 jpeg", "image/jpeg")},
    )
    decoded = decode_request(content_type, body)
    assert decoded.params == {"chat_id": 1001, "caption": "Bankje 😀\r\nkapot"}
    photo = decoded.files["photo"]
    assert (photo.filename, photo.content_type, photo.content) == (
        "bank.jpg",
        "image/jpeg",
        b"\xff\xd8 jpeg",
    )


def test_json_body_and_query_string() -> None:
    content_type, body = encoded(json={"chat_id": 5, "text": "hoi"})
    assert decode_request(content_type, body, "offset=3").params == {
        "offset": 3,
        "chat_id": 5,
        "text": "hoi",
    }
    assert decode_request(None, b"").params == {}


def test_unreadable_bodies_are_bad_requests() -> None:
    with pytest.raises(BadRequestBody):
        decode_request("application/json", b"[1, 2]")
    with pytest.raises(BadRequestBody):
        decode_request("application/x-www-form-urlencoded", b"\xff\xfe")
