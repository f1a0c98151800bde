"""How chat updates come in: one aiogram Router per feature, keyboards, callback data, middlewares."""

from aiogram import Router

from handlers import errors, fallback, help, onboarding, profile


def feature_routers() -> list[Router]:
    """In the order they are asked: specific features first, the catch-all fallback last."""
    return [errors.router, onboarding.router, profile.router, help.router, fallback.router]
