"""yibao-bot: resident medical insurance campaign assistant."""
