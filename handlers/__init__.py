"""How chat updates come in: one router per feature, keyboards, callback data, middlewares."""

from aiogram import Router

from handlers import errors, fallback, help, onboarding, profile


def feature_routers() -> list[Router]:
    """In the order they are asked: specific features first, the catch-all fallback last."""
    return [module.router.build() for module in (errors, onboarding, profile, help, fallback)]
