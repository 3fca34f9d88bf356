"""The callback server against the fake WeChat platform: signatures, 安全模式, replays, the 5-second rule."""

from __future__ import annotations

import asyncio

import httpx
from conftest import AES_KEY, APP_ID, OLD_KEY, TOKEN
from sqlmodel import Session, func, select

from bot.registry.models import ChatLink, DialogueStateRow
from wechat import crypto
from wechat.render import CHOICES_LEAD, custom_menu


def _states(engine) -> int:  # noqa: ANN001
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(DialogueStateRow)).one()


async def test_url_verification(start_wechat) -> None:  # noqa: ANN001
    w = await start_wechat()
    q = {"timestamp": "1700000000", "nonce": "42", "echostr": "echo-7"}
    async with httpx.AsyncClient() as http:
        ok = await http.get(w.fake.callback_url, params={**q, "signature": crypto.signature(TOKEN, "1700000000", "42")})
        bad = await http.get(w.fake.callback_url, params={**q, "signature": crypto.signature("x", "1700000000", "42")})
    assert (ok.status_code, ok.text) == (200, "echo-7")
    assert bad.status_code == 403 and "echo-7" not in bad.text


async def test_encrypted_conversation_with_numbers_and_menu(start_wechat) -> None:  # noqa: ANN001
    w = await start_wechat()
    greeting = (await w.fake.push_event("o-alice", "subscribe")).reply
    assert greeting and "请问您在哪里参保" in greeting and "1. " in greeting
    [answer] = await w.fake.say("o-alice", "五河县低保户交多少钱")
    assert "60 元" in answer and CHOICES_LEAD in answer  # the engine's 低保 amount, choices as numbered lines
    options = answer.split(CHOICES_LEAD)[1].strip().splitlines()
    deadline_no = next(line.split(".")[0] for line in options if "什么时候交" in line)
    [picked] = await w.fake.say("o-alice", deadline_no)
    assert "缴费截止 2023年12月31日" in picked
    clicked = (await w.fake.push_click("o-alice", "t:how_to_pay")).reply  # the custom menu's key
    assert clicked and "五河县" in clicked
    menu_keys = [b["key"] for top in custom_menu()["button"] for b in top["sub_button"]]
    assert "t:how_to_pay" in menu_keys and "x:lookup" in menu_keys


async def test_plaintext_mode(start_wechat) -> None:  # noqa: ANN001
    w = await start_wechat(aes=False)
    [answer] = await w.fake.say("o-bob", "滕州市七十岁老人交多少钱")
    assert "滕州" in answer


async def test_forged_stale_replayed_and_plaintext_refused(start_wechat) -> None:  # noqa: ANN001
    w = await start_wechat()
    before = _states(w.engine)
    forged = await w.fake.push_text("o-eve", "五河县交多少钱", forge=True)
    stale = await w.fake.push_text("o-eve", "五河县交多少钱", stale=True)
    assert (forged.status, stale.status) == (403, 403)
    assert _states(w.engine) == before  # nothing ran
    first = await w.fake.push_text("o-eve", "五河县交多少钱")
    assert first.status == 200 and first.reply
    replayed = await w.fake.push_text("o-eve", "ignored", replay=True)
    assert replayed.status == 403 and replayed.reply is None
    # A plaintext callback, validly signed, while 安全模式 is configured: refused too.
    plain_fake_crypto, w.fake.crypto = w.fake.crypto, None
    try:
        plain = await w.fake.push_text("o-eve", "五河县交多少钱")
    finally:
        w.fake.crypto = plain_fake_crypto
    assert plain.status == 403
    assert [s.kind for s in w.fake.sent if s.openid == "o-eve"] == ["passive"]


async def test_wechat_retry_of_one_message_answered_once(start_wechat) -> None:  # noqa: ANN001
    w = await start_wechat()
    fields = {"MsgType": "text", "Content": "五河县交多少钱", "MsgId": 777001}
    first = await w.fake.push("o-carol", fields)
    retry = await w.fake.push("o-carol", fields)  # WeChat's retry: same MsgId, new nonce and signature
    assert first.reply and retry.status == 200 and retry.body == "success"


async def test_key_rotation_accepts_the_previous_key(start_wechat) -> None:  # noqa: ANN001
    # WeChat still encrypts with the old key for a while after a new one is saved.
    w = await start_wechat(fake_key=OLD_KEY, wechat_aes_key=AES_KEY, wechat_aes_key_previous=OLD_KEY)
    w.fake.reply_crypto = crypto.MessageCrypto(APP_ID, AES_KEY)  # our replies use the new key
    pushed = await w.fake.push_text("o-dave", "五河县交多少钱")
    assert pushed.status == 200 and pushed.reply and "五河县" in pushed.reply
    without = await start_wechat(fake_key=OLD_KEY, wechat_aes_key=AES_KEY)
    assert (await without.fake.push_text("o-dave", "五河县交多少钱")).status == 400


async def test_slow_answer_goes_through_customer_service_messages(start_wechat, monkeypatch) -> None:  # noqa: ANN001
    w = await start_wechat(wechat_reply_budget_seconds=0.05)
    from bot.conversation import core

    real = core.handle

    def slow(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        import time

        time.sleep(0.3)  # the dialogue misses the budget
        return real(*args, **kwargs)

    monkeypatch.setattr("wechat.dialogue.handle", slow)
    pushed = await w.fake.push_text("o-erin", "五河县交多少钱")
    assert pushed.status == 200 and pushed.body == "success"
    for _ in range(50):
        await asyncio.sleep(0.05)
        custom = w.fake.messages_to("o-erin", kinds=("custom",))
        if custom:
            break
    assert custom and "五河县" in (custom[0].text or "")


async def test_unfollow_ends_subscriptions_and_voice_is_read(start_wechat) -> None:  # noqa: ANN001
    w = await start_wechat()
    unpaid_id, unpaid_name = w.people["unpaid_id"], w.people["unpaid_name"]
    await w.fake.say("o-frank", "五河县")
    replies = await w.fake.say("o-frank", f"{unpaid_id} {unpaid_name}")
    assert any("未缴" in r or "没有缴" in r or "尚未" in r for r in replies), replies
    offer = replies[-1].split(CHOICES_LEAD)[1].strip().splitlines()
    household_no = next(line.split(".")[0] for line in offer if "全家" in line or "家" in line)
    confirmed = await w.fake.say("o-frank", household_no)
    assert "已为" in confirmed[0] and "订阅" in confirmed[0]
    with Session(w.engine) as s:
        link = s.exec(select(ChatLink).where(ChatLink.address == "o-frank")).one()
        assert (link.channel, link.active, link.chat_id) == ("wechat", True, None)
    voice = await w.fake.push("o-frank", {"MsgType": "voice", "MediaId": "m1", "Format": "amr",
                                          "Recognition": "五河县什么时候截止", "MsgId": 99})
    assert voice.reply and "缴费截止" in voice.reply
    gone = await w.fake.push_event("o-frank", "unsubscribe")
    assert gone.status == 200 and gone.reply is None
    with Session(w.engine) as s:
        link = s.exec(select(ChatLink).where(ChatLink.address == "o-frank")).one()
        assert not link.active and link.ended_at is not None


async def test_a_failing_dialogue_answers_one_chinese_line(start_wechat, monkeypatch) -> None:  # noqa: ANN001
    from wechat.server import SORRY

    w = await start_wechat()

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("database went away")

    monkeypatch.setattr("wechat.dialogue.handle", broken)
    pushed = await w.fake.push_text("o-gina", "五河县交多少钱")
    assert (pushed.status, pushed.reply) == (200, SORRY)
