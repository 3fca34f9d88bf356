"""The dialogue state: a plain, JSON-safe object the adapter stores between messages.

It holds what the resident told us and what we are waiting for, so follow-ups ("那低保户呢",
"那滕州呢", "我妈呢") are answered in context:

- `place`: the locality (and town/village) the questions are about;
- `person`: the person asked about (relation, categories, age or birth year, migrant, newborn, ...);
- `topics`: the questions answered last (one message may ask several), which a follow-up with no
  question of its own re-asks;
- `open`: a question we asked back and are waiting on (the place, a payment month, a town);
- `lookup`: a status check waiting for the name (the ID number is kept at most LOOKUP_TTL);
- `last_lookup`: whom the last successful status check was about (for reminder subscriptions).

`to_dict()`/`from_dict()` round-trip through JSON; unknown keys are ignored so a state stored by an
older version still loads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

LOOKUP_TTL = dt.timedelta(minutes=10)  # an ID number waiting for its name is forgotten after this

# Facts about the person asked about. Event facts (paid_on, died_on, month, refund_reason, ...) live
# here too: they belong to that person's case and go when another person is named.
PERSON_KEYS = (
    "relation", "categories", "not_categories", "unsure_categories", "ordinary", "age", "birth_year", "birth_date", "birth_month_only",
    "migrant", "newborn", "student", "hukou_elsewhere", "residence_permit", "employee_insured",
    "newly_recognised", "recognised_on", "paid_on", "month", "died_on", "died_until", "refund_reason", "newborn_late",
    "uninsured_years", "paid_back_years", "continuous_years", "no_claims",
)  # fmt: skip
# Facts about one message only: an amount the resident states, a question about the financing.
TURN_KEYS = ("amount_stated", "financing", "household_size")


@dataclass
class Place:
    locality: str
    town: str | None = None
    village: str | None = None
    area_id: int | None = None

    @property
    def area_name(self) -> str | None:
        return self.village or self.town


@dataclass
class OpenQuestion:
    kind: str  # "place" | "paid" | "town" | "refund" | "died" (the day of death asked for)
    topic: str  # the topic to answer once the fact arrives
    asks: list[str] = field(default_factory=list)  # further topics asked in the same message


@dataclass
class DialogueState:
    place: Place | None = None
    person: dict[str, Any] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)
    open: OpenQuestion | None = None
    lookup_id: str | None = None  # ID number waiting for the name (personal data: short-lived)
    lookup_since: str | None = None  # ISO instant the ID arrived
    last_lookup: dict[str, Any] | None = None  # person_id, household_id, masked, name
    profile_loaded: bool = False  # the remembered place was read from the registry once

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        # Written out by hand: dataclasses.asdict deep-copies every value recursively, a measurable part
        # of an update's CPU, and every value here is already JSON-safe.
        return {
            "place": None if self.place is None else vars(self.place).copy(),
            "person": {k: list(v) if isinstance(v, list) else v for k, v in self.person.items()},
            "topics": list(self.topics),
            "open": None if self.open is None else {**vars(self.open), "asks": list(self.open.asks)},
            "lookup_id": self.lookup_id,
            "lookup_since": self.lookup_since,
            "last_lookup": None if self.last_lookup is None else dict(self.last_lookup),
            "profile_loaded": self.profile_loaded,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> DialogueState:
        if not raw:
            return cls()
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in raw.items() if k in known}
        place = data.get("place")
        if isinstance(place, dict) and place.get("locality"):
            data["place"] = Place(**{k: v for k, v in place.items() if k in {f.name for f in fields(Place)}})
        else:
            data["place"] = None
        open_ = data.get("open")
        if isinstance(open_, dict) and open_.get("kind"):
            data["open"] = OpenQuestion(**{k: v for k, v in open_.items()
                                           if k in {f.name for f in fields(OpenQuestion)}})
        else:
            data["open"] = None
        person = data.get("person")
        data["person"] = {k: v for k, v in person.items() if k in PERSON_KEYS} if isinstance(person, dict) else {}
        return cls(**data)

    # ------------------------------------------------------------------ the pending ID number
    def hold_id(self, number: str, now: dt.datetime) -> None:
        self.lookup_id, self.lookup_since = number, now.isoformat()

    def drop_id(self) -> None:
        self.lookup_id = self.lookup_since = None

    def expire(self, now: dt.datetime) -> None:
        """Forget an ID number that has waited longer than LOOKUP_TTL for its name."""
        if self.lookup_id is None:
            return
        try:
            since = dt.datetime.fromisoformat(self.lookup_since or "")
        except ValueError:
            self.drop_id()
            return
        if since.tzinfo is None and now.tzinfo is not None:
            since = since.replace(tzinfo=now.tzinfo)
        if now - since > LOOKUP_TTL:
            self.drop_id()

    @property
    def topic(self) -> str | None:
        """The last question answered."""
        return self.topics[-1] if self.topics else None

    @property
    def locality(self) -> str | None:
        return self.place.locality if self.place else None
