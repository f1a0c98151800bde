"""Errors a person can be told about: a gettext message id with its parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.replies import Msg


class Term(str):
    """A parameter that is itself a message id, such as a place kind's name ("compound"):
    translated into the language the message is rendered in."""


class DomainError(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params

    def text(self, quote: Callable[[str], str] = str) -> Msg:
        """The message, translated when it is rendered for its reader; `quote` makes what a
        person typed safe where it is shown."""
        return Msg(self.message, {key: _param(value, quote) for key, value in self.params.items()})

    def render(self, locale: str, quote: Callable[[str], str] = str) -> str:
        return self.text(quote).render(locale)


def _param(value: Any, quote: Callable[[str], str]) -> Any:
    if isinstance(value, Term):
        return Msg(value)
    return quote(value) if isinstance(value, str) else value
