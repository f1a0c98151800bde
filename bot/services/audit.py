"""The audit log of privileged actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry

OPERATOR_CHANNEL = "cli"


@dataclass(frozen=True)
class Actor:
    """Who acts: a person on a channel, or the operator at the command line."""

    channel: str  # "cli", "telegram", "wechat"
    person_id: int | None = None

    @property
    def is_operator(self) -> bool:
        return self.channel == OPERATOR_CHANNEL


COMMAND_LINE = Actor(OPERATOR_CHANNEL)


# On the table, built once: an entry is written with many an update, and nothing reads it back.
_ENTRY = insert(AuditEntry.__table__)


async def record(session: AsyncSession, actor: Actor, action: str, target: str, **details: Any) -> None:
    target = target[: AuditEntry.target.type.length]  # a file's name may be longer than the column
    await session.execute(_ENTRY, {"actor_person_id": actor.person_id, "actor_channel": actor.channel, "action": action, "target": target, "details": details})
