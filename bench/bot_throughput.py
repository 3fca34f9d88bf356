"""Bot throughput through the fake Bot API: (a) a bare aiogram echo bot vs (b) this bot answering
policy questions, both as real long-polling processes, in one run.

For each bot: N updates pushed at once (replies per second, p50/p99 latency from push to the first
reply in that chat), then the same paced at 100 updates/s (p50/p99). Every update comes from its own
chat, so latency is the time to that chat's first sendMessage.

    .venv/bin/python -m bench.bot_throughput [--n 1000] [--paced 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.fakeapi import FakeBotAPI

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-token"
QUESTIONS = ("五河县低保户交多少钱", "滕州市特困人员交多少钱", "唐河县什么时候截止交费",
             "桃园镇两女户交多少", "五河外地户口在这住能参保吗", "滕州大学生在哪交")


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def prepare_db(path: Path) -> str:
    from sqlmodel import Session

    from bot import clock
    from bot.registry import demo
    from bot.registry.db import open_db
    from bot.settings import Settings

    url = f"sqlite:///{path}"
    engine = open_db(Settings(database_url=url))
    for loc in ("taoyuan", "wuhe", "tengzhou", "tanghe"):
        with Session(engine) as s:
            demo.generate(s, loc, scale=0.002)
            s.commit()
    clock.set_today(None)
    return url


async def run_load(api: FakeBotAPI, texts: list[str], chat0: int, rate: float | None) -> dict[str, float]:
    """Push len(texts) updates (each from its own chat), at `rate` per second or all at once."""
    pushed: dict[int, float] = {}
    start = time.perf_counter()
    for i, text in enumerate(texts):
        if rate:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        pushed[chat0 + i] = time.perf_counter()
        api.push_text(chat0 + i, text)
    want = set(pushed)

    first: dict[int, float] = {}

    def done(_: object) -> bool:
        return want <= first.keys()

    async def watch() -> None:
        seen = 0
        while not done(None):
            for call in api.sent[seen:]:
                if call.ok and call.method == "sendMessage" and call.chat_id in want and call.chat_id not in first:
                    first[call.chat_id] = call.at_perf
            seen = len(api.sent)
            await asyncio.sleep(0.002)

    await asyncio.wait_for(watch(), timeout=300)
    end = max(first.values())
    lat = [(first[c] - pushed[c]) * 1000 for c in want]
    return {"n": len(texts), "seconds": end - start, "per_s": len(texts) / (end - start),
            "p50": statistics.median(lat), "p99": percentile(lat, 99)}


async def bench_bot(name: str, cmd: list[str], env: dict[str, str], texts: list[str], paced: list[str]) -> dict:
    api = FakeBotAPI()
    base = await api.start()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**env, "TELEGRAM_API_BASE": base},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while api.stats["by_method"].get("getUpdates", 0) == 0:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}")
            await asyncio.sleep(0.1)
        await run_load(api, texts[:20], 1, None)  # warm-up: imports, caches, first queries
        burst = await run_load(api, texts, 100_000, None)
        pace = await run_load(api, paced, 200_000, 100.0)
        return {"name": name, "burst": burst, "paced": pace}
    finally:
        proc.terminate()
        proc.wait(10)
        await api.stop()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--paced", type=int, default=500)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bot-bench-"))
    db_url = prepare_db(tmp / "bench.db")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "STATUS_API_URL")}
    env.update({"BOT_TOKEN": TOKEN, "DATABASE_URL": db_url, "YIBAO_TODAY": "2023-11-20", "LOG_LEVEL": "WARNING"})
    echo_texts = [f"你好 {i}" for i in range(args.n)]
    q_texts = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.n)]
    a = await bench_bot("(a) bare aiogram echo", [sys.executable, "-m", "bench.bot_echo"], env, echo_texts,
                        echo_texts[: args.paced])
    b = await bench_bot("(b) yibao run, policy questions", [sys.executable, "-m", "bot.cli", "run", "--no-scheduler"],
                        env, q_texts, q_texts[: args.paced])
    print(f"machine: {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}, "
          f"load avg {os.getloadavg()[0]:.1f}")
    print("| bot | burst N | replies/s | p50 ms | p99 ms | paced 100/s N | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in (a, b):
        x, p = r["burst"], r["paced"]
        print(f"| {r['name']} | {x['n']} | {x['per_s']:.0f} | {x['p50']:.1f} | {x['p99']:.1f} | "
              f"{p['n']} | {p['p50']:.1f} | {p['p99']:.1f} |")
    ratio = b["burst"]["per_s"] / a["burst"]["per_s"]
    print(f"(b)/(a) throughput: {ratio:.0%} (goal >= 50%); (b) paced p99 {b['paced']['p99']:.1f} ms (goal <= 50 ms)")


if __name__ == "__main__":
    asyncio.run(main())
