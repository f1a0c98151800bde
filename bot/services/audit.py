"""The audit log of privileged actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    channel: str  # "cli", "telegram", "wechat"
    person_id: int | None = None


COMMAND_LINE = Actor("cli")


async def record(session: AsyncSession, actor: Actor, action: str, target: str, **details: Any) -> None:
    session.add(AuditEntry(actor_person_id=actor.person_id, actor_channel=actor.channel, action=action, target=target, details=details))
    await session.flush()
