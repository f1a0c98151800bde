"""How Telegram updates come in: one router per feature, our own filters, middlewares.

Handlers are thin: they take what the update says, call the channel-neutral flow in
bot/conversations, and return its Response; the transaction middleware commits, then sends.
"""

from aiogram import Router

from handlers import errors, fallback, groups, help, onboarding, profile


def feature_routers() -> list[Router]:
    """Fresh routers (an aiogram Router joins one Dispatcher only), in the order they are
    asked: group chats first (they answer only when addressed), the catch-all fallback last."""
    return [module.create_router() for module in (errors, groups, onboarding, profile, help, fallback)]
