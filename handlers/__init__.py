"""aiogram routers: admin.py, staff.py, resident/ (the dialogue adapter, which takes every message
left, last); middlewares/ guards errors and floods and supplies `settings`; the dispatcher's workflow
data supplies `engine`. Wired by bot.app.build_dispatcher."""
