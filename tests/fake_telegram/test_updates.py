from __future__ import annotations

from telegram import Update

from testing.fake_telegram import (
    BOT_USER,
    UpdateFactory,
    callback_update,
    detect_entities,
    entity,
    message_update,
    user,
    utf16_len,
)

ANNA = user(1001, first_name="Anna", username="anna_velsen")


def substrings(update: Update) -> dict[str, str]:
    """Entity type → text it covers, as PTB slices it (PTB slices by UTF-16)."""
    assert update.message is not None
    return {e.type: text for e, text in update.message.parse_entities().items()}


def test_user_leaves_out_missing_fields() -> None:
    assert user(5, language_code=None) == {"id": 5, "is_bot": False, "first_name": "Test"}
    assert user(5, username="x")["language_code"] == "nl"


def test_utf16_length_counts_emoji_twice() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("é") == 1  # in the BMP
    assert utf16_len("👩‍👩‍👧") == 8  # three astral code points joined by two ZWJs


def test_command_entity_covers_command_and_bot_name_only() -> None:
    update = message_update(1, ANNA, "/start@burgerbeest_test_bot welkom 😀")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 27}]
    parsed = Update.de_json(update, None)
    assert substrings(parsed) == {"bot_command": "/start@burgerbeest_test_bot"}


def test_entities_after_emoji_use_utf16_offsets() -> None:
    text = "😀😀 zie /help en #velsen of https://velsen.nl/zeewijk. Groet @anna_velsen"
    entities = detect_entities(text)
    assert [e["type"] for e in entities] == ["bot_command", "hashtag", "url", "mention"]
    # Two emoji and a space: the command starts at UTF-16 offset 9, not at index 7.
    assert entities[0] == {"type": "bot_command", "offset": 9, "length": 5}
    parsed = Update.de_json(message_update(1, ANNA, text), None)
    assert substrings(parsed) == {
        "bot_command": "/help",
        "hashtag": "#velsen",
        "url": "https://velsen.nl/zeewijk",
        "mention": "@anna_velsen",
    }


def test_no_command_entity_for_a_slash_without_a_name() -> None:
    assert detect_entities("/😀 en a/b") == []
    assert "entities" not in message_update(1, ANNA, "gewoon tekst")["message"]


def test_entity_helper_finds_the_part() -> None:
    assert entity("🌳 speeltuin", "speeltuin", "bold") == {
        "type": "bold",
        "offset": 3,
        "length": 9,
    }


def test_factory_numbers_updates_and_messages_per_chat() -> None:
    factory = UpdateFactory()
    bob = user(1002, first_name="Bob")
    first, second, third = factory.text(ANNA, "a"), factory.text(bob, "b"), factory.text(ANNA, "c")
    assert [u["update_id"] for u in (first, second, third)] == [1, 2, 3]
    assert [u["message"]["message_id"] for u in (first, second, third)] == [1, 1, 2]
    assert first["message"]["chat"] == {
        "id": 1001,
        "type": "private",
        "first_name": "Anna",
        "username": "anna_velsen",
    }


def test_factory_command_with_args_and_bot_name() -> None:
    factory = UpdateFactory()
    assert factory.command(ANNA, "start")["message"]["text"] == "/start"
    update = factory.command(ANNA, "idee", "bankje 😀", bot_username="burgerbeest_test_bot")
    assert update["message"]["text"] == "/idee@burgerbeest_test_bot bankje 😀"
    parsed = Update.de_json(update, None)
    assert parsed.message is not None
    assert substrings(parsed) == {"bot_command": "/idee@burgerbeest_test_bot"}


def test_callback_update_parses_with_the_bots_message() -> None:
    markup = {"inline_keyboard": [[{"text": "Ja", "callback_data": "join:3"}]]}
    payload = callback_update(7, ANNA, "join:3", message_id=42, reply_markup=markup)
    update = Update.de_json(payload, None)
    query = update.callback_query
    assert query is not None and query.data == "join:3"
    assert query.from_user.id == 1001
    assert query.message is not None and query.message.message_id == 42
    assert query.message.chat.id == 1001
    assert query.message.from_user is not None and query.message.from_user.is_bot
    assert query.message.from_user.id == BOT_USER["id"]
    assert query.message.reply_markup is not None
    assert update.effective_chat is not None and update.effective_chat.id == 1001


def test_factory_press_under_a_given_message() -> None:
    factory = UpdateFactory()
    sent = {
        "message_id": 9,
        "from": BOT_USER,
        "chat": {"id": 1001, "type": "private", "first_name": "Anna"},
        "date": 1_700_000_000,
        "text": "Kies je kern",
    }
    update = Update.de_json(factory.press(ANNA, "kern:2", message=sent), None)
    assert update.callback_query is not None
    assert update.callback_query.message.text == "Kies je kern"  # type: ignore[union-attr]


def test_sticker_and_photo_parse() -> None:
    factory = UpdateFactory()
    sticker = Update.de_json(factory.sticker(ANNA), None)
    assert sticker.message is not None and sticker.message.sticker is not None
    photo = Update.de_json(factory.photo(ANNA, caption="Kapot 😀 #IJmuiden"), None)
    assert photo.message is not None
    assert photo.message.photo[-1].width == 1280
    assert photo.message.caption == "Kapot 😀 #IJmuiden"
    assert [text for text in photo.message.parse_caption_entities().values()] == ["#IJmuiden"]
    assert "caption" not in factory.photo(ANNA)["message"]
