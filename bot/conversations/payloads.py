"""What an option carries back when chosen: a prefix and ids, packed as "prefix:1:2".

A payload arrives as Telegram callback data (64 bytes at most, and a client can forge it) or
from a numbered menu on a text channel. So it carries ids only, each checked to fit the
database's integer range, and every handler checks again what the id may be used for.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Self

MAX_PAYLOAD_BYTES = 64
MAX_ID = 2**31 - 1  # the database's INTEGER; anything larger is no id of ours
SEPARATOR = ":"


@dataclasses.dataclass(frozen=True)
class Payload:
    prefix: ClassVar[str]
    registry: ClassVar[dict[str, type[Payload]]] = {}

    def __init_subclass__(cls, prefix: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if prefix:
            if prefix in Payload.registry:
                raise ValueError(f"payload prefix {prefix!r} is used twice")
            cls.prefix = prefix
            Payload.registry[prefix] = cls

    def pack(self) -> str:
        packed = SEPARATOR.join([self.prefix, *(str(getattr(self, f.name)) for f in dataclasses.fields(self))])
        if len(packed.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload {packed!r} is longer than {MAX_PAYLOAD_BYTES} bytes")
        return packed

    @classmethod
    def unpack(cls, data: str) -> Self | None:
        """The payload `data` stands for, or None when it is not a well-formed one of this kind."""
        prefix, *values = data.split(SEPARATOR)
        fields = dataclasses.fields(cls)
        if prefix != cls.prefix or len(values) != len(fields):
            return None
        parsed: dict[str, Any] = {}
        for field, value in zip(fields, values):
            if field.type in (int, "int"):
                if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
                    return None
                parsed[field.name] = int(value)
            else:
                parsed[field.name] = value
        return cls(**parsed)

    @staticmethod
    def parse(data: str) -> Payload | None:
        """Any registered payload."""
        kind = Payload.registry.get(data.split(SEPARATOR, 1)[0])
        return kind.unpack(data) if kind else None


@dataclasses.dataclass(frozen=True)
class UnitChoice(Payload, prefix="unit"):
    unit_id: int


@dataclasses.dataclass(frozen=True)
class RoomChoice(Payload, prefix="room"):
    household_id: int


@dataclasses.dataclass(frozen=True)
class RoomPage(Payload, prefix="rooms"):
    unit_id: int
    page: int  # from 1


@dataclasses.dataclass(frozen=True)
class LanguageChoice(Payload, prefix="lang"):
    locale: str


@dataclasses.dataclass(frozen=True)
class CommandChoice(Payload, prefix="cmd"):
    """An option that runs a command, as if typed ("cmd:help")."""

    name: str


@dataclasses.dataclass(frozen=True)
class LeaderPlace(Payload, prefix="lead"):
    place_id: int


@dataclasses.dataclass(frozen=True)
class VolunteerParty(Payload, prefix="party"):
    answer: int  # 1 yes, 2 no


@dataclasses.dataclass(frozen=True)
class VolunteerPlace(Payload, prefix="serve"):
    place_id: int


@dataclasses.dataclass(frozen=True)
class Decision(Payload, prefix="decide"):
    application_id: int
    verdict: int  # 1 approve, 2 reject


@dataclasses.dataclass(frozen=True)
class RevokeGrant(Payload, prefix="revoke"):
    grant_id: int


@dataclasses.dataclass(frozen=True)
class NoticeTo(Payload, prefix="nto"):
    audience: int  # 1 residents, 2 building leaders, 3 a group chat
    target_id: int  # the place, or the group chat


@dataclasses.dataclass(frozen=True)
class NoticeAction(Payload, prefix="nact"):
    action: int  # 1 send now, 2 at a time, 3 discard


@dataclasses.dataclass(frozen=True)
class AcknowledgeNotice(Payload, prefix="ack"):
    notice_id: int


@dataclasses.dataclass(frozen=True)
class CancelNotice(Payload, prefix="ncancel"):
    notice_id: int


@dataclasses.dataclass(frozen=True)
class VoteOpen(Payload, prefix="vopen"):
    vote_id: int
    household_id: int


@dataclasses.dataclass(frozen=True)
class VoteCast(Payload, prefix="vcast"):
    """A decision's option, or the only item of a consultation allowing one: cast at once."""

    vote_id: int
    household_id: int
    option_id: int


@dataclasses.dataclass(frozen=True)
class VoteToggle(Payload, prefix="vtog"):
    """An item of a consultation allowing several: chosen or unchosen, cast with VoteSubmit."""

    vote_id: int
    household_id: int
    option_id: int


@dataclasses.dataclass(frozen=True)
class VoteSubmit(Payload, prefix="vsub"):
    vote_id: int
    household_id: int


@dataclasses.dataclass(frozen=True)
class PaperVote(Payload, prefix="pvote"):
    vote_id: int


@dataclasses.dataclass(frozen=True)
class PaperHousehold(Payload, prefix="phome"):
    household_id: int


@dataclasses.dataclass(frozen=True)
class PaperChoice(Payload, prefix="pch"):
    option_id: int


@dataclasses.dataclass(frozen=True)
class PaperReplace(Payload, prefix="prepl"):
    answer: int  # 1 replace the online vote, 2 keep it


@dataclasses.dataclass(frozen=True)
class NewVoteKind(Payload, prefix="nvkind"):
    kind: int  # 1 consultation, 2 decision (major matter), 3 decision (ordinary matter)


@dataclasses.dataclass(frozen=True)
class NewVotePlace(Payload, prefix="nvplace"):
    place_id: int


@dataclasses.dataclass(frozen=True)
class NewVoteAction(Payload, prefix="nvact"):
    action: int  # 1 create, 2 discard
