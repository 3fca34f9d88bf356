import datetime as dt

from bot import clock


def test_pinned_today(monkeypatch):
    monkeypatch.setenv("YIBAO_TODAY", "2023-11-20")
    assert clock.today() == dt.date(2023, 11, 20)


def test_unpinned_today_is_shanghai(monkeypatch):
    monkeypatch.delenv("YIBAO_TODAY", raising=False)
    assert clock.today() == dt.datetime.now(clock.TZ).date()
