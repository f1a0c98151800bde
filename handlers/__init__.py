"""How Telegram updates come in: one router per feature, our own filters, middlewares.

Handlers are thin: they take what the update says, call the channel-neutral flow in
bot/conversations, and return its Response; the transaction middleware commits, then sends.
"""

from aiogram import Router

from handlers import errors, fallback, features, groups


def feature_routers() -> list[Router]:
    """Fresh routers (an aiogram Router joins one Dispatcher only), in the order they are
    asked: group chats first (silence unless addressed), then the features (one router each,
    under one gate), the catch-all fallback last."""
    return [errors.create_router(), groups.create_router(), features.create_router(), fallback.create_router()]
