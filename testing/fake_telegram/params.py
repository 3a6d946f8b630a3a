"""Decoding Bot API request bodies the way Telegram accepts them.

python-telegram-bot 22 (HTTPXRequest) POSTs every method: no body at all when there are no
parameters (getMe), `application/x-www-form-urlencoded` otherwise, and `multipart/form-data` when a
file is uploaded. In both form encodings each value is a string: strings as they are, everything
else JSON-encoded (`true`, `42`, `{"inline_keyboard": ...}`). Telegram also takes a JSON body and
query-string parameters, so those work too.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

# Parameters that are free text or opaque ids: never JSON-decode them, or a user's text "42" or
# a numeric callback_query_id would turn into an int.
TEXT_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "inline_message_id",
        "inline_query_id",
        "parse_mode",
        "url",
        "secret_token",
        "ip_address",
        "title",
        "description",
        "short_description",
        "name",
        "query",
        "emoji",
        "language_code",
        "action",
        "question",
        "explanation",
        "address",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "business_connection_id",
        "message_effect_id",
        "custom_title",
        "switch_pm_text",
        "switch_pm_parameter",
        "next_offset",
        "game_short_name",
        "file_id",
        "error_message",
    }
)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class DecodedRequest:
    params: dict[str, Any]
    files: dict[str, UploadedFile]


class BadRequestBody(ValueError):
    """The body could not be read; Telegram answers such requests with 400."""


def decode_value(name: str, value: str) -> Any:
    """A form value back to what PTB meant: JSON for non-strings, text for text parameters."""
    if name in TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # a plain string such as a file_id, "@channel" or "HTML"


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {name: decode_value(name, value) for name, value in pairs}


def decode_request(content_type: str | None, body: bytes, query: str = "") -> DecodedRequest:
    """Parameters and uploaded files of one request, whatever encoding the client chose."""
    params = decode_form(parse_qsl(query, keep_blank_values=True))
    files: dict[str, UploadedFile] = {}
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if not body.strip():
        return DecodedRequest(params, files)
    try:
        if media_type == "application/json":
            data = json.loads(body)
            if not isinstance(data, dict):
                raise BadRequestBody("a JSON body must be an object")
            params.update(data)
        elif media_type == "multipart/form-data":
            form, files = _decode_multipart(content_type or "", body)
            params.update(form)
        else:
            # Telegram treats an unlabelled body as a form, and so does this.
            text = body.decode("utf-8")
            params.update(decode_form(parse_qsl(text, keep_blank_values=True, strict_parsing=True)))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequestBody(str(exc)) from exc
    return DecodedRequest(params, files)


def _decode_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    # The email parser reads MIME multipart faithfully and is in the standard library (cgi is
    # deprecated); it needs the Content-Type header in front of the body.
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not parsed.is_multipart():
        raise BadRequestBody("multipart body without parts")
    params: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            content = b""
        filename = part.get_filename()
        if filename is not None or part.get_content_type() != "text/plain":
            files[name] = UploadedFile(name, filename, part.get_content_type(), content)
        else:
            charset = part.get_content_charset() or "utf-8"
            params[name] = decode_value(name, content.decode(charset))
    return params, files
