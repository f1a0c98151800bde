"""Errors a person can be told about: a gettext message id with its parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.i18n import translate


class Term(str):
    """A parameter that is itself a message id, such as a place kind's name ("compound"):
    translated into the language the message is rendered in."""


class DomainError(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params

    def render(self, locale: str, quote: Callable[[str], str] = str) -> str:
        """The message in `locale`; `quote` makes what a person typed safe for the channel
        (HTML escaping on Telegram)."""
        params = {key: _render_param(value, locale, quote) for key, value in self.params.items()}
        return translate(locale, self.message).format(**params)


def _render_param(value: Any, locale: str, quote: Callable[[str], str]) -> Any:
    if isinstance(value, Term):
        return translate(locale, value)
    return quote(value) if isinstance(value, str) else value
