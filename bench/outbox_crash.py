"""kill -9 of the sender half-way, then a restart: does every recipient get exactly one message?

    .venv/bin/python -m bench.outbox_crash [--n 4000] [--trials 10] [--rate 1000]

The sender runs as its own process (`yibao outbox send`); when the fake Bot API has accepted half the
messages the bench SIGKILLs it, then starts a new sender (lease 2 s, so rows the dead one had claimed
are re-sent 2 s later). Printed per trial: delivered, recipients with 0 / 1 / 2+ messages, rows left in
`sending` at the kill, and the measured duplicate window (Telegram's acceptance -> committed `sent`).
"""

from __future__ import annotations

import argparse
import asyncio
import os

from sqlmodel import Session, select

from bench.outbox_common import (
    delivered,
    fresh_outbox,
    kill9,
    machine,
    mark_lag_ms,
    pct,
    per_chat,
    spawn_sender,
    sustained_rate,
    tmpdir,
)
from bot.fakeapi import FakeBotAPI
from scheduler.models import OutboxMessage


async def trial(n: int, rate: float) -> dict:
    url, engine = fresh_outbox(n, tmpdir())
    api = FakeBotAPI(rate_limit=rate)
    base = await api.start()
    try:
        proc = await spawn_sender(url, base, rate=rate, paid=True, lease=2.0)
        while len(delivered(api)) < n // 2:
            await asyncio.sleep(0.005)
        kill9(proc)
        await proc.wait()
        before = delivered(api)
        at_kill = len(before)
        rate_before = sustained_rate(before[len(before) // 10:])  # past the start-up ramp
        with Session(engine) as s:
            stuck = len(list(s.exec(select(OutboxMessage.id).where(OutboxMessage.status == "sending"))))
        proc2 = await spawn_sender(url, base, rate=rate, paid=True, lease=2.0)
        await proc2.wait()
        calls = delivered(api)
        counts = per_chat(calls)
        lags = mark_lag_ms(engine, calls)
        return {"rate": rate_before, "at_kill": at_kill, "stuck": stuck, "delivered": len(calls),
                "zero": n - len(counts), "one": sum(1 for v in counts.values() if v == 1),
                "dup": sum(1 for v in counts.values() if v > 1), "lag50": pct(lags, 50), "lag99": pct(lags, 99),
                "lagmax": max(lags) if lags else float("nan")}
    finally:
        await api.stop()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--rate", type=float, default=1000.0)
    args = ap.parse_args()
    print(f"machine: {machine()}; {args.n} recipients, fake limit = sender rate = {args.rate:.0f} msg/s")
    print("| trial | msg/s before kill | delivered at kill | rows in 'sending' at kill | delivered total | "
          "recipients with 0 | with 1 | with 2+ | window p50 / p99 / max ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    dups, rates = [], []
    for t in range(1, args.trials + 1):
        r = await trial(args.n, args.rate)
        dups.append(r["dup"])
        rates.append(r["rate"])
        print(f"| {t} | {r['rate']:.0f} | {r['at_kill']:,} | {r['stuck']} | {r['delivered']:,} | {r['zero']} | "
              f"{r['one']:,} | {r['dup']} | {r['lag50']:.2f} / {r['lag99']:.2f} / {r['lagmax']:.2f} |", flush=True)
    print(f"{args.trials} kills: {sum(dups)} duplicates ({sum(dups) / args.trials:.2f} per kill, worst {max(dups)}; "
          f"goal <= 1 per kill); rate before the kill {min(rates):.0f}-{max(rates):.0f} msg/s "
          f"({min(rates) / args.rate:.0%}-{max(rates) / args.rate:.0%} of {args.rate:.0f}); "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
