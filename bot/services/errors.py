"""Errors a person can be told about: a gettext message id with its parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.replies import Msg


class DomainError(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params

    def text(self) -> Msg:
        """The message, translated when it is rendered for its reader."""
        return Msg(self.message, self.params)

    def render(self, locale: str, quote: Callable[[str], str] = str) -> str:
        """The message in `locale`; `quote` makes what a person typed safe where it is shown."""
        params = {key: quote(value) if isinstance(value, str) else value for key, value in self.params.items()}
        return Msg(self.message, params).render(locale)
