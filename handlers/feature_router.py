"""A Router blueprint: handlers register on it at import, and each Dispatcher gets a fresh
aiogram Router from it. (An aiogram Router joins one Dispatcher only, and tests and the demo
build several in one process.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router

Handler = Callable[..., Any]


class FeatureRouter:
    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[tuple[str, Handler, tuple[Any, ...]]] = []

    def message(self, *filters: Any) -> Callable[[Handler], Handler]:
        return self._on("message", filters)

    def callback_query(self, *filters: Any) -> Callable[[Handler], Handler]:
        return self._on("callback_query", filters)

    def errors(self, *filters: Any) -> Callable[[Handler], Handler]:
        return self._on("errors", filters)

    def _on(self, observer: str, filters: tuple[Any, ...]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._handlers.append((observer, handler, filters))
            return handler

        return register

    def build(self) -> Router:
        router = Router(name=self.name)
        for observer, handler, filters in self._handlers:
            getattr(router, observer).register(handler, *filters)
        return router
