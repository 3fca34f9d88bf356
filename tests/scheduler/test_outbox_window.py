"""The sender's in-flight window: a send is recorded before the next one goes out (so a crash leaves at
most the window's size of duplicates), and the window is as small as the rate allows."""

from __future__ import annotations

import asyncio
import time

from sched_helpers import settings
from sqlmodel import Session, func, select

from scheduler import outbox
from scheduler.models import OutboxMessage
from scheduler.sender import OutboxSender
from scheduler.window import InFlightWindow


def test_window_is_one_slot_when_a_send_turns_around_fast() -> None:
    window = InFlightWindow(1000.0)
    for _ in range(60):
        window.busy += 1
        window.release(time.monotonic() - 0.0005)  # 0.5 ms from call to commit
    assert window.size == 1


def test_window_widens_to_keep_the_rate_when_sends_are_slow_and_is_capped() -> None:
    window = InFlightWindow(1000.0)
    for _ in range(60):
        window.busy += 1
        window.release(time.monotonic() - 0.0045)  # 4.5 ms: ceil(0.8 * 1000/s * 4.5 ms) = 4 slots
    assert window.size == 4
    window.set_rate(25.0)  # another sender came up: this one's share drops
    assert window.size == 1
    slow = InFlightWindow(1000.0, max_size=8)
    for _ in range(60):
        slow.busy += 1
        slow.release(time.monotonic() - 1.0)
    assert slow.size == 8


def test_one_slow_send_does_not_widen_the_window() -> None:
    window = InFlightWindow(1000.0)
    for i in range(48):
        window.busy += 1
        window.release(time.monotonic() - (0.2 if i == 20 else 0.0005))
    assert window.size == 1


def test_pinned_window_keeps_its_size() -> None:
    window = InFlightWindow(1000.0, fixed=3)
    window.busy += 1
    window.release(time.monotonic() - 1.0)
    assert window.size == 3


async def test_each_send_is_committed_as_sent_before_the_next_goes_out(engine, bot) -> None:  # noqa: ANN001
    with Session(engine) as s:
        for i in range(30):
            outbox.enqueue(s, key=f"w:{i}", chat_id=3000 + i, text=f"提醒 {i}")
        s.commit()
    unrecorded: list[int] = []

    class Watching:
        """Counts, at each call, the earlier sends Telegram accepted that are not yet marked sent."""

        def __init__(self) -> None:
            self.accepted = 0

        async def send_message(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
            with Session(engine) as s:
                sent = s.exec(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status == "sent")).one()
            unrecorded.append(self.accepted - sent)
            result = await bot.send_message(*args, **kwargs)
            self.accepted += 1
            await asyncio.sleep(0)  # let the response's bookkeeping run as it would
            return result

    class SlowCommit(OutboxSender):
        """Records outcomes 20 ms late, as a busy database would: the next send must still wait."""

        late = False

        def _flush(self) -> None:
            if self._done and not self.late:
                self.late = True
                asyncio.get_running_loop().call_later(0.02, self._late_flush)
                return
            super()._flush()

        def _late_flush(self) -> None:
            self.late = False
            super()._flush()

    stats = await SlowCommit(engine, Watching(), settings=settings(), recheck=None, in_flight=1).run(until_empty=True)
    assert stats.sent == 30 and len(unrecorded) == 30
    assert max(unrecorded) == 0  # never a second message while the previous one was unrecorded
