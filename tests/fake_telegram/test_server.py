from __future__ import annotations

import asyncio
import datetime as dtm
import io
import threading
import time

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from testing.fake_telegram import Call, FakeBotApi, user

ANNA = user(1001, first_name="Anna")
KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Ja 👍", callback_data="join:3")],
        [InlineKeyboardButton("Nee", callback_data="no")],
    ]
)


async def test_get_me_is_the_bot_of_the_token(api: FakeBotApi, tg: Bot) -> None:
    me = await tg.get_me()
    assert me.is_bot and me.id == int(api.token.split(":")[0])
    assert me.username == "burgerbeest_test_bot"
    assert [c.method for c in api.calls()] == ["getMe", "getMe"]  # initialize() asked first


async def test_send_message_echoes_text_and_keyboard(api: FakeBotApi, tg: Bot) -> None:
    api.enqueue(api.updates.command(ANNA, "start"))
    sent = await tg.send_message(1001, "Welkom 😀", reply_markup=KEYBOARD)
    again = await tg.send_message(1001, "Nog een")
    assert sent.text == "Welkom 😀" and sent.chat.id == 1001
    assert sent.from_user is not None and sent.from_user.id == tg.id
    assert sent.reply_markup == KEYBOARD
    # User and bot messages share one sequence per chat: /start was message 1.
    assert (sent.message_id, again.message_id) == (2, 3)
    call = api.calls("sendMessage")[0]
    assert call.params["chat_id"] == 1001  # form values decoded back to their JSON types
    assert call.buttons == [("Ja 👍", "join:3"), ("Nee", "no")]
    assert api.sent_texts(1001) == ["Welkom 😀", "Nog een"]


async def test_form_text_that_looks_like_json_stays_text(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    await tg.send_message(1001, "42")
    await tg.send_message(1001, "true")
    assert api.sent_texts(1001) == ["42", "true"]


async def test_html_is_rendered_and_checked_like_telegram(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    sent = await tg.send_message(1001, "😀 <b>Zeewijk</b> &lt;3", parse_mode="HTML")
    assert sent.text == "😀 Zeewijk <3"
    assert list(sent.parse_entities().values()) == ["Zeewijk"]
    with pytest.raises(BadRequest, match=r"(?i)parse entities"):
        await tg.send_message(1001, "bankje <3 kapot", parse_mode="HTML")
    assert api.calls("sendMessage")[-1].error_code == 400
    assert api.sent_texts(1001) == ["😀 <b>Zeewijk</b> &lt;3"]
    assert api.sent_texts(1001, plain=True) == ["😀 Zeewijk <3"]


async def test_edit_replaces_text_and_drops_keyboard(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    sent = await tg.send_message(1001, "Kies", reply_markup=KEYBOARD)
    edited = await tg.edit_message_text("Gekozen", chat_id=1001, message_id=sent.message_id)
    assert isinstance(edited, type(sent)) and edited.text == "Gekozen"
    assert edited.reply_markup is None and edited.edit_date is not None
    assert api.message(1001, sent.message_id)["text"] == "Gekozen"  # type: ignore[index]
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await tg.edit_message_text("Gekozen", chat_id=1001, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await tg.edit_message_text("x", chat_id=1001, message_id=999)
    markup = await tg.edit_message_reply_markup(1001, sent.message_id, reply_markup=KEYBOARD)
    assert markup.reply_markup == KEYBOARD  # type: ignore[union-attr]


async def test_sending_to_an_unknown_chat_fails(tg: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await tg.send_message(4242, "hallo")


async def test_long_poll_returns_as_soon_as_an_update_is_queued(api: FakeBotApi, tg: Bot) -> None:
    poll = asyncio.create_task(tg.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    started = time.monotonic()
    api.enqueue(api.updates.text(ANNA, "Hoi 😀 /help"))
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1
    assert len(updates) == 1 and isinstance(updates[0], Update)
    message = updates[0].message
    assert message is not None and message.text == "Hoi 😀 /help"
    assert list(message.parse_entities().values()) == ["/help"]
    # Not confirmed yet: delivered again until the bot asks with a higher offset.
    assert len(await tg.get_updates(timeout=0)) == 1
    assert await tg.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    assert api.pending() == []


async def test_long_poll_times_out_empty(api: FakeBotApi, tg: Bot) -> None:
    started = time.monotonic()
    assert await tg.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3
    assert api.calls("getUpdates")[-1].params["timeout"] == 1


async def test_a_second_instance_ends_the_first_long_poll(api: FakeBotApi, tg: Bot) -> None:
    first = asyncio.create_task(tg.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    # A second Bot: one Bot's getUpdates connection pool holds a single request at a time.
    async with Bot(api.token, base_url=f"{api.base_url}/bot") as other:
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await asyncio.wait_for(first, 2)
        assert await second == ()


async def test_callback_update_parses_and_is_answered(api: FakeBotApi, tg: Bot) -> None:
    api.enqueue(api.updates.command(ANNA, "start"))
    sent = await tg.send_message(1001, "Doe je mee?", reply_markup=KEYBOARD)
    api.enqueue(api.updates.press(ANNA, "join:3", message=sent.to_dict()))
    updates = await tg.get_updates(timeout=2)
    query = updates[-1].callback_query
    assert query is not None and query.data == "join:3"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.message.reply_markup == KEYBOARD
    assert await tg.answer_callback_query(query.id, text="Top!") is True
    assert api.calls("answerCallbackQuery")[0].params == {
        "callback_query_id": query.id,
        "text": "Top!",
    }
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await tg.answer_callback_query(query.id)  # answered already
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await tg.answer_callback_query("123")


async def test_callback_data_over_64_bytes_is_refused(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await tg.send_message(1001, "te lang", reply_markup=keyboard)


async def test_texts_over_telegrams_limits_are_refused(api: FakeBotApi, tg: Bot) -> None:
    """Counted as Telegram counts: UTF-16 units of the text after parsing the HTML."""
    api.add_chat(ANNA)
    html = "HTML"
    await tg.send_message(1001, "<b>" + "&amp;" * 4096 + "</b>", parse_mode=html)
    sent = await tg.send_message(1001, "😀" * 2048, parse_mode=html)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await tg.send_message(1001, "😀" * 2048 + "a", parse_mode=html)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await tg.edit_message_text("a" * 4097, 1001, sent.message_id, parse_mode=html)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await tg.send_photo(1001, "AgACAgQ", caption="<i>" + "c" * 1025 + "</i>", parse_mode=html)


async def test_429_raises_retry_after_once(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    api.inject("sendMessage", error_code=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await tg.send_message(1001, "hallo")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    failed = api.calls("sendMessage")[0]
    assert failed.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    await tg.send_message(1001, "hallo")  # times=1: the retry goes through
    assert api.sent_texts(1001) == ["hallo"]


async def test_blocked_user_gives_forbidden(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    api.add_chat(user(1002))
    api.block(1001)
    for _ in range(2):
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await tg.send_message(1001, "hallo")
    await tg.send_message(1002, "jij wel")
    assert [c.ok for c in api.calls("sendMessage")] == [False, False, True]


async def test_injected_errors_by_chat_and_server_errors(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    api.add_chat(user(1002))
    api.inject(None, chat_id=1002, error_code=403, times=None)
    api.inject("sendMessage", chat_id=1001, error_code=502, times=1)
    api.inject("sendChatAction", error_code=500, description="Internal Server Error")
    with pytest.raises(Forbidden):
        await tg.send_chat_action(1002, "typing")
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await tg.send_message(1001, "a")
    with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
        await tg.send_chat_action(1001, "typing")
    await tg.send_message(1001, "b")
    await tg.get_updates(timeout=0)  # a fault for "any method" never hits the long poll
    api.clear_faults()
    await tg.send_message(1002, "c")


async def test_wrong_token_is_unauthorized(api: FakeBotApi) -> None:
    intruder = Bot("123:WRONG", base_url=f"{api.base_url}/bot")
    with pytest.raises(InvalidToken, match=r"(?i)Unauthorized"):
        await intruder.get_me()
    assert api.calls()[0].error_code == 401


async def test_unknown_method_is_not_found(api: FakeBotApi, tg: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await tg.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
    assert api.calls("sendTelepathy")[0].response == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


async def test_slow_call_times_out_but_is_carried_out(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    api.delay("sendMessage", 1.0)
    with pytest.raises(TimedOut):
        await tg.send_message(1001, "traag", read_timeout=0.3)
    late = await api.wait_for("sendMessage", timeout=3)
    assert late.ok and late.duration >= 1.0
    assert api.sent_texts(1001) == ["traag"]  # a retry would send it twice


async def test_disconnect_cuts_the_connection(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    api.disconnect("sendMessage")
    with pytest.raises(NetworkError):
        await tg.send_message(1001, "weg")
    assert api.calls("sendMessage")[0].dropped
    assert api.sent_texts(1001) == []
    await tg.send_message(1001, "er")
    assert api.sent_texts(1001) == ["er"]


async def test_photo_upload_is_multipart_and_downloadable(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    sent = await tg.send_photo(1001, io.BytesIO(b"\x89PNG fake"), caption="Bankje 😀 kapot")
    assert sent.caption == "Bankje 😀 kapot"
    call = api.calls("sendPhoto")[0]
    assert call.params == {"chat_id": 1001, "caption": "Bankje 😀 kapot"}
    assert call.files["photo"].content == b"\x89PNG fake"
    file = await tg.get_file(sent.photo[-1].file_id)
    assert await file.download_as_bytearray() == bytearray(b"\x89PNG fake")
    document = await tg.send_document(1001, io.BytesIO(b"a;b\n"), filename="export.csv")
    assert document.document is not None and document.document.file_name == "export.csv"


async def test_commands_are_kept_per_scope(tg: Bot) -> None:
    await tg.set_my_commands([("start", "Begin"), ("idee", "Een idee")])
    await tg.set_my_commands([("start", "Start")], language_code="en")
    assert [c.command for c in await tg.get_my_commands()] == ["start", "idee"]
    assert [c.description for c in await tg.get_my_commands(language_code="en")] == ["Start"]
    await tg.delete_my_commands()
    assert await tg.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await tg.set_my_commands([("Start", "hoofdletter")])


async def test_delete_message_and_webhook(api: FakeBotApi, tg: Bot) -> None:
    api.enqueue(api.updates.text(ANNA, "oud"))
    assert await tg.delete_webhook(drop_pending_updates=True)
    assert api.pending() == []
    api.add_chat(ANNA)
    sent = await tg.send_message(1001, "weg ermee")
    assert await tg.delete_message(1001, sent.message_id)
    assert api.chat_messages(1001) == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await tg.delete_message(1001, sent.message_id)
    assert await tg.set_webhook("https://example.org/hook")
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await tg.get_updates(timeout=0)


async def test_wait_for_hands_out_each_call_once(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    await tg.send_message(1001, "een")
    await tg.send_message(1001, "twee")
    assert (await api.wait_for("sendMessage", chat_id=1001)).text == "een"
    assert (await api.wait_for("sendMessage", chat_id=1001)).text == "twee"
    with pytest.raises(TimeoutError) as caught:
        await api.wait_for("sendMessage", chat_id=1001, timeout=0.2)
    message = str(caught.value)
    assert "no sendMessage call to chat 1001 arrived within 0.2s" in message
    assert "2 such call(s) were already returned" in message
    assert "sendMessage chat=1001 'twee' -> ok" in message


async def test_wait_for_sees_calls_made_while_waiting(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    mark = api.mark()
    waiting = asyncio.create_task(
        api.wait_for("sendMessage", lambda c: "kern" in c.text, since=mark)
    )
    await tg.send_message(1001, "hallo")
    await tg.send_message(1001, "Kies je kern")
    assert (await waiting).text == "Kies je kern"


def test_wait_for_sync_from_a_thread(api: FakeBotApi) -> None:
    api.add_chat(ANNA)

    def later() -> None:
        time.sleep(0.2)
        httpx.post(
            f"{api.base_url}/bot{api.token}/sendMessage",
            json={"chat_id": 1001, "text": "via JSON"},
        )

    threading.Thread(target=later).start()
    call = api.wait_for_sync("sendMessage", timeout=3)
    assert call.params == {"chat_id": 1001, "text": "via JSON"} and call.ok
    with pytest.raises(TimeoutError, match=r"(?i)no editMessageText call"):
        api.wait_for_sync("editMessageText", timeout=0.1)


async def test_stop_and_start_keeps_port_and_state(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    await tg.send_message(1001, "voor")
    port = api.port
    await asyncio.to_thread(api.stop)
    with pytest.raises(NetworkError):
        await tg.send_message(1001, "tijdens")
    api.start()
    assert api.port == port
    after = await tg.send_message(1001, "na")
    assert after.message_id == 2
    assert api.sent_texts(1001) == ["voor", "na"]


async def test_async_context_manager_and_stop_ends_long_poll() -> None:
    async with FakeBotApi() as api:
        bot = Bot(api.token, base_url=f"{api.base_url}/bot")
        async with bot:
            poll = asyncio.create_task(bot.get_updates(timeout=30))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            await asyncio.to_thread(api.stop)
            assert await asyncio.wait_for(poll, 5) == ()
            assert time.monotonic() - started < 2


async def test_a_long_poll_the_bot_hung_up_on_is_abandoned(api: FakeBotApi) -> None:
    async with httpx.AsyncClient(timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(f"{api.base_url}/bot{api.token}/getUpdates", data={"timeout": "5"})
    call = await api.wait_for("getUpdates", timeout=2)
    assert call.abandoned and not call.ok
    assert call.duration < 1.5  # noticed the hang-up, did not sit out the 5 s


async def test_enqueue_guards_update_ids(api: FakeBotApi, tg: Bot) -> None:
    update = api.updates.text(ANNA, "een")
    api.enqueue(update)
    update["message"]["text"] = "veranderd"  # the queued copy is what the bot gets
    with pytest.raises(ValueError, match="already pending"):
        api.enqueue(update)
    (delivered,) = await tg.get_updates(offset=0, timeout=0)
    assert delivered.message is not None and delivered.message.text == "een"
    await tg.get_updates(offset=delivered.update_id + 1, timeout=0)
    with pytest.raises(ValueError, match="below the offset"):
        api.enqueue(update)


async def test_timeout_message_explains_a_failing_predicate(api: FakeBotApi, tg: Bot) -> None:
    api.add_chat(ANNA)
    await tg.send_message(1001, "hallo")

    def mentions_kern(call: Call) -> bool:
        return "kern" in call.text

    with pytest.raises(TimeoutError) as caught:
        await api.wait_for("sendMessage", mentions_kern, timeout=0.1)
    assert "matching mentions_kern" in str(caught.value)
    assert "1 such call(s) failed the predicate" in str(caught.value)
    with pytest.raises(ValueError, match="times"):
        api.inject("sendMessage", error_code=500, times=0)


async def test_custom_methods_and_lenient_mode() -> None:
    with FakeBotApi(strict=False) as lenient:
        lenient.on("getChatMemberCount", lambda params: 7 if params["chat_id"] == -5 else 0)
        async with Bot(lenient.token, base_url=f"{lenient.base_url}/bot") as bot:
            assert await bot.get_chat_member_count(-5) == 7
            sent = await bot.send_message(4242, "onbekende chat mag hier")
            assert sent.chat.id == 4242
            edited = await bot.edit_message_text("ook dit", chat_id=4242, message_id=77)
            assert edited.text == "ook dit"  # type: ignore[union-attr]


async def test_a_text_mention_carries_the_whole_user_as_on_telegram(
    api: FakeBotApi, tg: Bot
) -> None:
    bram = user(1002, first_name="Bram", last_name="de Boer", language_code="nl")
    api.enqueue(api.updates.command(ANNA, "start"), api.updates.command(bram, "start"))
    sent = await tg.send_message(
        1001,
        'Bram is <a href="tg://user?id=1002">Bram</a>, <a href="tg://user?id=9999">Kees</a> not',
        parse_mode="HTML",
    )
    # PTB reads a text mention's user as a User: it needs id, is_bot and first_name.
    [mention] = sent.entities
    assert mention.type == "text_mention" and sent.parse_entity(mention) == "Bram"
    assert mention.user is not None
    assert (mention.user.id, mention.user.is_bot, mention.user.first_name) == (1002, False, "Bram")
    assert mention.user.last_name == "de Boer"
    # Someone the bot never heard from is no mention: the words stay, unlinked.
    assert sent.text.endswith("Kees not")
    result = api.calls("sendMessage")[-1].result
    assert result["entities"][0]["user"] == {
        "id": 1002,
        "is_bot": False,
        "first_name": "Bram",
        "last_name": "de Boer",
    }
    edited = await tg.edit_message_text(
        'Ook <a href="tg://user?id=1001">Anna</a>',
        chat_id=1001,
        message_id=sent.message_id,
        parse_mode="HTML",
    )
    assert edited.entities[0].user.first_name == "Anna"  # type: ignore[union-attr]


async def test_a_lenient_stand_in_makes_up_a_mentioned_user() -> None:
    with FakeBotApi(strict=False) as lenient:
        async with Bot(lenient.token, base_url=f"{lenient.base_url}/bot") as bot:
            sent = await bot.send_message(
                4242, '<a href="tg://user?id=77">Kees</a>', parse_mode="HTML"
            )
    [mention] = sent.entities
    assert mention.user is not None and mention.user.id == 77 and mention.user.first_name
