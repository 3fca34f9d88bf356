"""check_status: local registry, or a county HTTP service (a local aiohttp server here)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from decimal import Decimal

import pytest
from aiohttp import web

from bot.registry import ids, status_service
from bot.registry.status_service import ServiceUnavailable, check_status
from bot.settings import Settings

from . import world as w

NUMBER = w.make_id("340322", dt.date(1985, 6, 4), 44)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(status_service, "BACKOFF_SECONDS", 0.01)


class County:
    """A county service whose behaviour each test scripts: a list of actions, one per request."""

    def __init__(self, actions: list[str]) -> None:
        self.actions = actions
        self.requests: list[dict] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        action = self.actions.pop(0) if len(self.actions) > 1 else self.actions[0]
        if action == "hang":
            await asyncio.sleep(30)
        if action == "500":
            return web.json_response({"error": "boom"}, status=500)
        if action == "404":
            return web.Response(status=404)
        if action == "400":
            return web.Response(status=400)
        if action == "garbage":
            return web.Response(text="<html>", content_type="text/html")
        if body["id_number"] == NUMBER and body["name"] == "王芳":
            return web.json_response({"found": True, "enrolled": True, "year": body.get("year", 2024),
                                      "paid_on": "2023-10-09", "amount": 380, "categories": ["dibao"],
                                      "benefit_start": "2024-01-01", "benefit_rule": "集中缴费期"})
        return web.json_response({"found": False})


@pytest.fixture()
async def county():
    servers: list[web.AppRunner] = []

    async def start(actions: list[str]) -> tuple[County, Settings]:
        service = County(actions)
        app = web.Application()
        app.router.add_post("/status", service.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        servers.append(runner)
        port = site._server.sockets[0].getsockname()[1]
        return service, Settings(status_api_url=f"http://127.0.0.1:{port}/status", status_api_timeout=0.3)

    yield start
    for runner in servers:
        await runner.cleanup()


async def test_http_found(county):
    service, settings = await county(["ok"])
    r = await asyncio.to_thread(check_status, "  " + NUMBER.lower(), "王芳", 2024, settings=settings)
    assert r.found and r.enrolled and r.year == 2024
    assert r.paid_on == dt.date(2023, 10, 9) and r.amount == Decimal("380.00") and r.categories == ("dibao",)
    assert r.benefit_start == dt.date(2024, 1, 1) and r.masked_id == ids.mask(NUMBER)
    assert service.requests == [{"id_number": NUMBER, "name": "王芳", "year": 2024}]  # normalised number


async def test_http_not_found_and_mismatch_look_the_same(county):
    _service, settings = await county(["ok"])
    mismatch = await asyncio.to_thread(check_status, NUMBER, "张三", 2024, settings=settings)
    assert mismatch == status_service.StatusResult(found=False, masked_id=ids.mask(NUMBER), year=2024)
    _service, settings404 = await county(["404"])
    assert await asyncio.to_thread(check_status, NUMBER, "王芳", 2024, settings=settings404) == mismatch


async def test_http_invalid_number_is_not_sent(county):
    service, settings = await county(["ok"])
    r = await asyncio.to_thread(check_status, NUMBER[:-2], "王芳", settings=settings)
    assert not r.found and service.requests == []


async def test_http_500_then_200_is_retried(county):
    service, settings = await county(["500", "ok"])
    r = await asyncio.to_thread(check_status, NUMBER, "王芳", 2024, settings=settings)
    assert r.found and len(service.requests) == 2


async def test_http_always_500_gives_service_unavailable(county, caplog):
    caplog.set_level(logging.DEBUG)
    service, settings = await county(["500"])
    with pytest.raises(ServiceUnavailable) as err:
        await asyncio.to_thread(check_status, NUMBER, "王芳", 2024, settings=settings)
    assert err.value.message_zh == "查询服务暂时不可用，请稍后再试"
    assert len(service.requests) == status_service.ATTEMPTS
    assert NUMBER not in caplog.text and ids.mask(NUMBER) in caplog.text


async def test_http_hang_times_out_and_gives_service_unavailable(county):
    service, settings = await county(["hang"])
    with pytest.raises(ServiceUnavailable):
        await asyncio.wait_for(asyncio.to_thread(check_status, NUMBER, "王芳", 2024, settings=settings), timeout=10)
    assert len(service.requests) == status_service.ATTEMPTS


async def test_http_hang_then_ok_recovers(county):
    service, settings = await county(["hang", "ok"])
    r = await asyncio.to_thread(check_status, NUMBER, "王芳", 2024, settings=settings)
    assert r.found and len(service.requests) == 2


@pytest.mark.parametrize("action", ["400", "garbage"])
async def test_http_unexpected_answers_are_unavailable_not_wrong(county, action):
    service, settings = await county([action])
    with pytest.raises(ServiceUnavailable):
        await asyncio.to_thread(check_status, NUMBER, "王芳", 2024, settings=settings)
    assert len(service.requests) == 1  # not retried: retrying will not fix it


async def test_connection_refused_is_unavailable():
    settings = Settings(status_api_url="http://127.0.0.1:9/status", status_api_timeout=0.3)
    with pytest.raises(ServiceUnavailable):
        await asyncio.to_thread(check_status, NUMBER, "王芳", 2024, settings=settings)


def test_local_lookup_without_url(engine, pinned_today):
    from bot.registry.db import session_scope

    with session_scope(engine) as session:
        world = w.build(session)
    r = check_status(world.ids["王芳"], "王芳", w.YEAR, settings=Settings(status_api_url=None), engine=engine)
    assert r.found and r.enrolled and r.paid_on == dt.date(2023, 10, 9)
