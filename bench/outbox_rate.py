"""Outbox sender throughput against the fake Bot API's rate limit.

    .venv/bin/python -m bench.outbox_rate [--n 20000] [--slow-seconds 40]

(a) paid broadcast: N reminders, fake limit 1,000 msg/s, sender at 1,000 msg/s: goal >= 80 % of the
    limit, zero 429s. (b) default: fake limit 30 msg/s (Telegram's), sender at settings' 25 msg/s for
    about `--slow-seconds`: goal within 5 % of 25. Baseline in the same run: a bare aiohttp client
    pushing sendMessage through the same fake API with no database (this machine's ceiling).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.outbox_common import (
    delivered,
    fresh_outbox,
    machine,
    mark_lag_ms,
    pct,
    per_chat,
    raw_ceiling,
    rejected_429,
    spawn_sender,
    sustained_rate,
    tmpdir,
)
from bot.fakeapi import FakeBotAPI


async def scenario(n: int, limit: float, rate: float, paid: bool) -> dict:
    url, engine = fresh_outbox(n, tmpdir())
    api = FakeBotAPI(rate_limit=limit)
    base = await api.start()
    try:
        t0 = time.perf_counter()
        proc = await spawn_sender(url, base, rate=rate, paid=paid)
        await proc.wait()
        wall = time.perf_counter() - t0
        calls = delivered(api)
        counts = per_chat(calls)
        lags = mark_lag_ms(engine, calls)
        return {"n": n, "limit": limit, "rate": rate, "delivered": len(calls), "unique": len(counts),
                "dupes": sum(v - 1 for v in counts.values()), "429": rejected_429(api),
                "sustained": sustained_rate(calls), "wall": wall, "lag_p50": pct(lags, 50), "lag_p99": pct(lags, 99),
                "paid_flag": all(c.params.get("allow_paid_broadcast") in (True, "true", "True") for c in calls[:50])
                if paid else None}
    finally:
        await api.stop()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--slow-seconds", type=float, default=40.0)
    args = ap.parse_args()
    api = FakeBotAPI()
    base = await api.start()
    ceiling = await raw_ceiling(api, base, 5000)
    await api.stop()
    fast = await scenario(args.n, 1000.0, 1000.0, paid=True)
    slow = await scenario(int(25 * args.slow_seconds), 30.0, 25.0, paid=False)
    print(f"machine: {machine()}")
    print(f"baseline: bare aiohttp -> fake API, no DB: {ceiling:,.0f} msg/s")
    print("| scenario | msgs | fake limit | sender rate | delivered | dupes | 429s | sustained msg/s | vs goal | wall s | mark lag p50/p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r, goal in (("paid broadcast", fast, f"{r_pct(fast['sustained'], 1000):.1f} % of limit (goal >= 80 %)"),
                          ("default", slow, f"{abs(slow['sustained'] - 25) / 25 * 100:.1f} % off 25 (goal <= 5 %)")):
        print(f"| {name} | {r['n']:,} | {r['limit']:.0f} | {r['rate']:.0f} | {r['delivered']:,} | {r['dupes']} | "
              f"{r['429']} | {r['sustained']:.1f} | {goal} | {r['wall']:.1f} | {r['lag_p50']:.2f} / {r['lag_p99']:.2f} |")
    print(f"allow_paid_broadcast sent on paid run: {fast['paid_flag']}")


def r_pct(value: float, of: float) -> float:
    return value / of * 100


if __name__ == "__main__":
    asyncio.run(main())
