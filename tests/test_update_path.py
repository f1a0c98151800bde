"""The per-update path stays short: what one everyday update (/me) asks of the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.conftest import RunningBot


async def test_me_for_a_joined_resident_takes_five_statements(bot: RunningBot) -> None:
    resident = bot.client.user(7001, "李大爷")
    [joined] = await resident.send(f"/start {bot.sample.household_code}")
    assert "认证住户成员" in joined.text
    await resident.send("/me")  # the first /me issues the link code; later ones show the same

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(bot.app.engine.sync_engine, "before_cursor_execute", record)
    try:
        [mine] = await resident.send("/me")
    finally:
        event.remove(bot.app.engine.sync_engine, "before_cursor_execute", record)
    assert "301室（已认证）" in mine.text and "绑定" in mine.text
    # Claim the update, find the person, their households with addresses, their roles, their
    # link code: one statement each, and nothing written but the claim.
    assert len(statements) <= 5, "\n".join(statements)
    assert sum(statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for statement in statements) == 1, "\n".join(statements)


def test_every_filter_and_handler_runs_on_the_event_loop() -> None:
    """aiogram runs a filter or handler that is not a coroutine function in a worker thread, on
    every update it sees (a bare `F.text` is one): each of ours is awaited where it is."""
    from aiogram import Dispatcher

    from handlers import feature_routers

    dispatcher = Dispatcher()
    dispatcher.include_routers(*feature_routers())
    threaded = []
    for router in dispatcher.chain_tail:
        for name, observer in router.observers.items():
            for handler in observer.handlers:
                callables = [handler, *(handler.filters or [])]
                threaded += [f"{router.name}.{name}: {c.callback!r}" for c in callables if not c.awaitable]
            threaded += [f"{router.name}.{name} filter: {f.callback!r}" for f in observer._handler.filters or [] if not f.awaitable]
    assert not threaded, "\n".join(threaded)
