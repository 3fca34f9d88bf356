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


def test_set_now_pins_instant_and_today() -> None:
    import datetime as dt

    from bot import clock

    clock.set_now(dt.datetime(2023, 12, 31, 21, 30))
    try:
        assert clock.now().hour == 21 and clock.now().tzinfo is not None
        assert clock.today() == dt.date(2023, 12, 31)
        clock.set_now(dt.datetime(2023, 12, 31, 14, 0, tzinfo=dt.UTC))  # 22:00 in Shanghai
        assert clock.now().hour == 22
    finally:
        clock.set_now(None)
    assert clock.now().year >= 2024 or clock.today() != dt.date(2023, 12, 31)
