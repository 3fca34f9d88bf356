"""Migration 0003_security on a database that already has staff: posts bound from a private chat
keep their rights under the user's id; posts bound from a group lose them, with an audit row; the
audit key is created once and survives further migrations."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, select

from bot.registry import db
from bot.registry.models import AppSecret, AuditLog, Staff


def test_group_bound_staff_lose_their_rights(engine) -> None:
    with engine.begin() as conn:
        command.downgrade(db.alembic_config(conn), "0002_scheduler")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO locality (id, name_zh, division_code) VALUES ('wuhe', '五河县', '340322')"))
        conn.execute(sa.text(
            "INSERT INTO staff (chat_id, role, locality_id, area_id) VALUES "
            "(1001, 'county_admin', 'wuhe', NULL), "  # bound in a private chat: chat id = user id
            "(-100123456789, 'village_cadre', 'wuhe', NULL), "  # bound in a supergroup
            "(-4242, 'town_official', 'wuhe', NULL)"  # bound in a basic group
        ))
    db._migrated.discard(engine)
    db.ensure_schema(engine)
    with Session(engine) as s:
        staff = list(s.exec(select(Staff)))
        assert [(x.user_id, x.role) for x in staff] == [(1001, "county_admin")]
        revoked = list(s.exec(select(AuditLog).where(AuditLog.action == "staff_revoked")))
        assert sorted(r.chat_id for r in revoked) == [-100123456789, -4242]
        assert {r.outcome for r in revoked} == {"group_bound"} and all(r.actor == "migration" for r in revoked)
        key = s.get(AppSecret, "audit_subject_key")
        assert key is not None and len(key.value) == 64
        first_key = key.value
    db._migrated.discard(engine)
    db.ensure_schema(engine)  # a repeat changes nothing
    with Session(engine) as s:
        assert s.get(AppSecret, "audit_subject_key").value == first_key


def test_user_id_is_unique(engine) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    with Session(engine) as s:
        s.add(Staff(user_id=5, role="county_admin", locality_id=_locality(s)))
        s.commit()
        s.add(Staff(user_id=5, role="village_cadre", locality_id=_locality(s)))
        with pytest.raises(IntegrityError):
            s.commit()


def _locality(s: Session) -> str:
    from bot.registry.models import Locality

    if s.get(Locality, "wuhe") is None:
        s.add(Locality(id="wuhe", name_zh="五河县", division_code="340322"))
        s.flush()
    return "wuhe"
