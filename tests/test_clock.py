import datetime as dt

from bot import clock


def test_pinned_today(monkeypatch):
    monkeypatch.setenv("YIBAO_TODAY", "2023-11-20")
    assert clock.today() == dt.date(2023, 11, 20)
    assert clock.now().date() == dt.date(2023, 11, 20)
    assert clock.now().tzinfo == clock.TZ


def test_unpinned_today_is_shanghai(monkeypatch):
    monkeypatch.delenv("YIBAO_TODAY", raising=False)
    monkeypatch.setattr("bot.settings.get_settings", lambda: type("S", (), {"yibao_today": None})())
    assert clock.today() == dt.datetime.now(clock.TZ).date()


def test_set_today_overrides_env(monkeypatch):
    monkeypatch.setenv("YIBAO_TODAY", "2023-11-20")
    clock.set_today(dt.date(2024, 2, 29))
    try:
        assert clock.today() == dt.date(2024, 2, 29)
    finally:
        clock.set_today(None)
    assert clock.today() == dt.date(2023, 11, 20)
