"""Errors a person can be told about: a gettext message id with its parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.i18n import translate


class DomainError(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params

    def render(self, locale: str, quote: Callable[[str], str] = str) -> str:
        """The message in `locale`; `quote` makes what a person typed safe for the channel
        (HTML escaping on Telegram)."""
        params = {key: quote(value) if isinstance(value, str) else value for key, value in self.params.items()}
        return translate(locale, self.message).format(**params)
