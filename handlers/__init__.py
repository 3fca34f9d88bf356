"""aiogram routers: admin.py, staff.py, resident/ (the catch-all fallback last); middlewares/ supplies
settings, session, profile and staff to every handler. Wired by bot.app.build_dispatcher."""
