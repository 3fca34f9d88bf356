"""Admin commands: placeholder router until the staff tools land."""

from aiogram import Router

router = Router(name="admin")
