"""What the WeChat adapter adds to an answer, in one run.

    .venv/bin/python -m bench.wechat_callback [--rounds 3]

Baseline: the dialogue core alone (`bot.conversation.handle`, state passed along) answering a fixed
list of residents' messages. Measured: the same messages as signed, encrypted callbacks from the fake
WeChat platform to our callback server on loopback (signature, replay check, AES decrypt, state load,
`handle` in a worker thread, state save and last-seen upsert in SQLite, render, encrypt, HTTP both
ways). Also: the crypto alone per message, and importing the SMS provider's SDK in a child process.
WeChat's limit is 5 s per answer; the adapter's budget is 4 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

MESSAGES = ["五河县低保户交多少钱", "什么时候截止", "那滕州呢", "七十岁老人还用交吗", "3月份补交什么时候能报销",
            "怎么交", "唐河县新生儿怎么参保", "桃园镇联系电话"]
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(rounds: int) -> dict[str, list[float]]:
    os.environ.setdefault("YIBAO_TODAY", "2023-11-20")
    from aiohttp import web

    from bot.conversation import DialogueState, Incoming, handle
    from bot.conversation.deps import Deps
    from bot.nlu import warm_up
    from bot.registry import db
    from bot.settings import Settings
    from wechat import crypto
    from wechat.fake import FakeWeChat
    from wechat.server import build_app

    warm_up()
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(database_url=f"sqlite:///{tmp / 'bench.db'}", wechat_token="bench", wechat_aes_key=KEY,
                        wechat_app_id="wxbench", redis_url=None)
    engine = db.get_engine(settings.database_url)
    db.ensure_schema(engine)
    with db.session_scope(engine) as s:
        db.seed_localities(s)
    out: dict[str, list[float]] = {"core": [], "callback": [], "crypto": []}
    for r in range(rounds):  # baseline: the core alone
        state, deps = DialogueState(), Deps(settings, engine, 7000 + r)
        for text in MESSAGES:
            t = time.perf_counter()
            state = handle(state, Incoming(text=text, address=str(7000 + r)), deps).state
            out["core"].append(time.perf_counter() - t)
    fake = FakeWeChat(token="bench", app_id="wxbench", aes_key=KEY)
    await fake.start()
    runner = web.AppRunner(build_app(settings, engine), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.callback_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/wechat"  # type: ignore[union-attr]
    try:
        for r in range(rounds):
            for text in MESSAGES:
                t = time.perf_counter()
                pushed = await fake.push_text(f"o-bench-{r}", text)
                out["callback"].append(time.perf_counter() - t)
                assert pushed.status == 200 and pushed.reply
    finally:
        await runner.cleanup()
        await fake.stop()
    box = crypto.MessageCrypto("wxbench", KEY)
    xml = "<xml>" + "医保" * 300 + "</xml>"
    for _ in range(200):
        t = time.perf_counter()
        box.decrypt(box.encrypt(xml))
        crypto.signature("bench", "1700000000", "12345", xml)
        out["crypto"].append(time.perf_counter() - t)
    return out


def sdk_import_seconds() -> float:
    code = "import time; t=time.perf_counter(); from tencentcloud.sms.v20210111 import sms_client, models; " \
           "print(time.perf_counter()-t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    out = asyncio.run(run(args.rounds))
    table = Table(title=f"WeChat callback vs the dialogue core ({len(MESSAGES)} messages x {args.rounds} rounds)")
    for col in ("what", "n", "median ms", "p95 ms", "max ms"):
        table.add_column(col)
    for name, label in (("core", "core alone (baseline)"), ("callback", "encrypted callback round trip"),
                        ("crypto", "encrypt+decrypt+sign 1.2 KB")):
        v = out[name]
        table.add_row(label, str(len(v)), f"{statistics.median(v) * 1000:.2f}", f"{pct(v, 0.95) * 1000:.2f}",
                      f"{max(v) * 1000:.2f}")
    console = Console()
    console.print(table)
    added = statistics.median(out["callback"]) - statistics.median(out["core"])
    console.print(f"adapter adds {added * 1000:.1f} ms at the median; tencentcloud SMS SDK import "
                  f"{sdk_import_seconds() * 1000:.0f} ms (child process)")


if __name__ == "__main__":
    main()
