"""Errors a person can be told about: a gettext message id with its parameters."""

from __future__ import annotations

from typing import Any

from bot.i18n import translate


class DomainError(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params

    def render(self, locale: str) -> str:
        return translate(locale, self.message).format(**self.params)
