"""The resident dialogue on Telegram: a thin adapter around `bot.conversation`.

Every message and every pressed button of a resident goes to `handlers.resident.dialogue`, which turns
it into an `Incoming`, runs the dialogue core in a worker thread, stores the new dialogue state in the
FSM storage (memory, or Redis shared by several processes) and sends the replies.
"""

from handlers.resident.dialogue import router

__all__ = ["router"]
