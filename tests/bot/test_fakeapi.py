"""The fake Bot API: Telegram's behaviours the bot and the outbox sender rely on."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BotCommand, BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.fakeapi import FakeAPIClient, FakeBotAPI

TOKEN = "123456:TEST-token_abc"


@pytest.fixture
async def api():
    fake = FakeBotAPI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(api):
    b = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
    yield b
    await b.session.close()


async def test_get_me_and_send_message_via_aiogram(api, bot):
    me = await bot.get_me()
    assert me.id == 123456 and me.is_bot
    kb = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="低保", callback_data="rf:cat:dibao")]])
    msg = await bot.send_message(42, "你好", reply_markup=kb)
    assert msg.chat.id == 42 and msg.text == "你好"
    [call] = api.messages(42)
    assert call.text == "你好"
    assert call.reply_markup["inline_keyboard"][0][0]["callback_data"] == "rf:cat:dibao"


async def test_documents_and_photos_keep_their_bytes(api, bot):
    await bot.send_document(7, BufferedInputFile(b"x" * 1234, filename="unpaid.xlsx"), caption="名单")
    await bot.send_photo(7, BufferedInputFile(b"\x89PNG" + b"0" * 96, filename="chart.png"))
    doc, photo = api.messages(7)
    assert doc.method == "sendDocument" and doc.text == "名单"
    [f] = doc.files.values()
    assert f.filename == "unpaid.xlsx" and f.size == 1234
    assert photo.method == "sendPhoto" and next(iter(photo.files.values())).data.startswith(b"\x89PNG")


async def test_long_polling_with_offset_and_timeout(api, bot):
    first = api.push_text(5, "第一条")
    updates = await bot.get_updates(offset=0, timeout=1)
    assert [u.update_id for u in updates] == [first["update_id"]]
    assert updates[0].message.text == "第一条"
    # Confirmed (offset past it): not delivered again; a long poll waits for the next one.
    waiter = asyncio.create_task(bot.get_updates(offset=first["update_id"] + 1, timeout=5))
    await asyncio.sleep(0.2)
    assert not waiter.done()
    second = api.push_text(5, "第二条")
    got = await asyncio.wait_for(waiter, 5)
    assert [u.update_id for u in got] == [second["update_id"]]


async def test_delete_edit_and_callbacks(api, bot):
    upd = api.push_text(9, "110101199003074477 张三")
    assert await bot.delete_message(9, upd["message"]["message_id"])
    with pytest.raises(TelegramBadRequest, match="not found"):
        await bot.delete_message(9, upd["message"]["message_id"])
    kb = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="是", callback_data="rs:person")]])
    sent = await bot.send_message(9, "订阅提醒？", reply_markup=kb)
    cb = api.push_callback(9, "rs:person")
    assert cb["callback_query"]["message"]["message_id"] == sent.message_id
    await bot.edit_message_text("已订阅", chat_id=9, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_text("已订阅", chat_id=9, message_id=sent.message_id)
    assert await bot.answer_callback_query(cb["callback_query"]["id"])


async def test_commands_roundtrip_and_unknown_method(api, bot):
    await bot.set_my_commands([BotCommand(command="start", description="开始")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{api.base_url}/bot{TOKEN}/noSuchMethod")
        assert r.status_code == 404 and r.json()["ok"] is False
        r = await http.post(f"{api.base_url}/botnot-a-token/getMe")
        assert r.status_code == 401


async def test_global_rate_limit_answers_429_with_retry_after(bot):
    fake = FakeBotAPI(rate_limit=5)
    await fake.start()
    try:
        b = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        ok = 0
        with pytest.raises(TelegramRetryAfter) as info:
            for i in range(20):
                await b.send_message(1000 + i, "提醒")
                ok += 1
        assert info.value.retry_after >= 1
        assert ok == 5  # the bucket holds one second's worth
        assert fake.stats["rate_limited"] == 1
        await b.session.close()
    finally:
        await fake.stop()


async def test_per_chat_limit_applies_to_one_chat_only():
    fake = FakeBotAPI(per_chat_limit=1)
    await fake.start()
    try:
        async with httpx.AsyncClient(base_url=f"{fake.base_url}/bot{TOKEN}") as http:
            assert (await http.post("/sendMessage", json={"chat_id": 1, "text": "a"})).status_code == 200
            r = await http.post("/sendMessage", json={"chat_id": 1, "text": "b"})
            assert r.status_code == 429 and r.json()["parameters"]["retry_after"] == 1
            assert (await http.post("/sendMessage", json={"chat_id": 2, "text": "c"})).status_code == 200
    finally:
        await fake.stop()


async def test_block_and_fail_next(api, bot):
    api.block(77)
    with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
        await bot.send_message(77, "提醒")
    api.fail_next(2, 502)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(78, "提醒")
    await bot.send_message(78, "提醒")
    assert api.stats["forbidden"] == 1 and api.stats["failed_injected"] == 2
    assert [c.status for c in api.calls("sendMessage")] == [403, 502, 502, 200]


async def test_control_endpoints_over_http(api):
    async with FakeAPIClient(api.base_url) as ctl, httpx.AsyncClient(base_url=f"{api.base_url}/bot{TOKEN}") as http:
        upd = await ctl.push_text(3, "/start")
        r = await http.post("/getUpdates", data={"offset": "0"})
        [got] = r.json()["result"]
        assert got["update_id"] == upd["update_id"]
        assert got["message"]["entities"][0]["type"] == "bot_command"
        await ctl.block(4)
        await ctl.configure(rate_limit=100)
        await http.post("/sendMessage", data={"chat_id": "4", "text": "x"})
        await http.post("/sendMessage", data={"chat_id": "3", "text": "y"})
        sent = await ctl.sent(method="sendMessage", count=1, wait=1)
        assert [(s["chat_id"], s["status"]) for s in sent] == [(4, 403), (3, 200)]
        stats = await ctl.stats()
        assert stats["forbidden"] == 1 and stats["rate_limit"] == 100


async def test_webhook_pushes_with_secret_round_robin():
    from aiohttp import web

    got: list[tuple[str, str, int]] = []

    def receiver(name: str):
        async def handle(request: web.Request) -> web.Response:
            body = await request.json()
            got.append((name, request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), body["update_id"]))
            return web.json_response({})
        return handle

    runners = []
    urls = []
    for name in ("A", "B"):
        app = web.Application()
        app.router.add_post("/wh", receiver(name))
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/wh")
    fake = FakeBotAPI()
    await fake.start()
    try:
        async with httpx.AsyncClient(base_url=f"{fake.base_url}/bot{TOKEN}") as http:
            r = await http.post("/setWebhook", json={"url": urls[0], "secret_token": "s3cret"})
            assert r.json()["result"] is True
            assert (await http.post("/getUpdates")).status_code == 409
        fake.set_webhook_targets(urls, "s3cret")  # simulate a load balancer in front of A and B
        for i in range(4):
            fake.push_text(1, f"m{i}")
            for _ in range(100):
                if len(got) > i:
                    break
                await asyncio.sleep(0.02)
        assert sorted(n for n, _, _ in got) == ["A", "A", "B", "B"]
        assert {s for _, s, _ in got} == {"s3cret"}
    finally:
        await fake.stop()
        for runner in runners:
            await runner.cleanup()
