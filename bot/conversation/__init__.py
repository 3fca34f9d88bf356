"""The resident dialogue, with no messenger inside.

    from bot.conversation import DialogueState, Incoming, handle
    out = handle(DialogueState(), Incoming(text="五河县今年交多少 最晚啥时候交", address="42"))
    out.replies      # [Reply(text=..., choices=...), ...]
    out.state        # store it (state.to_dict() is JSON-safe) and pass it back with the next message

Adapters (handlers/ for Telegram, the terminal chat, other channels) only translate: their update to an
`Incoming`, each `Reply` to their messages and buttons. See docs/architecture.md.
"""

from bot.conversation.core import handle
from bot.conversation.deps import Deps
from bot.conversation.model import Choice, Incoming, Outcome, Reply
from bot.conversation.state import DialogueState

__all__ = ["Choice", "DialogueState", "Deps", "Incoming", "Outcome", "Reply", "handle"]
