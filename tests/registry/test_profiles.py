"""A chat's remembered place (bot.registry.profiles) on SQLite and PostgreSQL: the one-statement upsert
creates the profile, resolves a named town or village of that locality to its area, and a later place
replaces the earlier one (area included)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from bot.registry import db
from bot.registry.models import Area
from bot.registry.profiles import remember_place, remembered_place


def _areas(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        db.seed_localities(s)
        town = Area(locality_id="wuhe", name="试点镇", level="town")
        other = Area(locality_id="tengzhou", name="试点镇", level="town")  # same name, other county
        s.add_all([town, other])
        s.commit()
        return {"wuhe": town.id, "tengzhou": other.id}


def test_place_is_created_then_replaced(engine: Engine) -> None:
    ids = _areas(engine)
    assert remembered_place(4242, engine=engine) is None

    assert remember_place(4242, "wuhe", "试点镇", engine=engine) == ids["wuhe"]
    place = remembered_place(4242, engine=engine)
    assert (place.locality_id, place.area_name) == ("wuhe", "试点镇")

    # The same name in another locality is that locality's area, not the first one's.
    assert remember_place(4242, "tengzhou", "试点镇", engine=engine) == ids["tengzhou"]
    assert remembered_place(4242, engine=engine).locality_id == "tengzhou"

    # A place without a town, or with one the registry lacks, clears the area.
    assert remember_place(4242, "tanghe", None, engine=engine) is None
    place = remembered_place(4242, engine=engine)
    assert (place.locality_id, place.area_name) == ("tanghe", None)
    assert remember_place(4242, "wuhe", "没有这个镇", engine=engine) is None
    assert remembered_place(4242, engine=engine).area_name is None


def test_places_of_different_chats_are_apart(engine: Engine) -> None:
    _areas(engine)
    remember_place(1, "wuhe", "试点镇", engine=engine)
    remember_place(2, "taoyuan", engine=engine)
    assert remembered_place(1, engine=engine).locality_id == "wuhe"
    assert remembered_place(2, engine=engine).locality_id == "taoyuan"
