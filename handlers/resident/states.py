"""FSM states of the resident conversation."""

from aiogram.fsm.state import State, StatesGroup


class Asking(StatesGroup):
    """A question is waiting for one missing fact (data key "pending")."""

    fact = State()
    place = State()


class Lookup(StatesGroup):
    """Status check: waiting for the ID number, or for the name (ID kept in data key "lookup_id")."""

    id_number = State()
    name = State()
