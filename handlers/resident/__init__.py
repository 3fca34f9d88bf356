"""Resident conversation: one sub-router per concern, the catch-all fallback last.

Order matters: commands and buttons first, then the status check (an ID number in any message),
then typed places, questions, subscriptions, and finally the fallback.
"""

from aiogram import Router

from handlers.resident import fallback, place, questions, start, status, subscribe

router = Router(name="resident")
router.include_routers(
    start.router,
    subscribe.router,
    status.router,
    place.router,
    questions.router,
    fallback.router,
)

__all__ = ["router"]
