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
class QuestionHelped(Payload, prefix="qhelp"):
    kind: int  # 1 an FAQ entry, 2 an earlier question's answer
    entry_id: int


@dataclasses.dataclass(frozen=True)
class QuestionToPerson(Payload, prefix="qperson"):
    """"Ask a person": the question written last goes into the queue."""


@dataclasses.dataclass(frozen=True)
class QuestionAction(Payload, prefix="qact"):
    question_id: int
    action: int  # the resident's: 1 add details or reply, 2 withdraw, 3 solved


@dataclasses.dataclass(frozen=True)
class QuestionRating(Payload, prefix="qrate"):
    question_id: int
    stars: int


@dataclasses.dataclass(frozen=True)
class TakeNextQuestion(Payload, prefix="qnext"):
    pass


@dataclasses.dataclass(frozen=True)
class WorkerAction(Payload, prefix="qwork"):
    question_id: int
    action: int  # 1 answer, 2 transfer, 3 close, 4 make an FAQ entry, 5 pass to the admins


@dataclasses.dataclass(frozen=True)
class TransferTo(Payload, prefix="qto"):
    question_id: int
    person_id: int


# --- reports ---


@dataclasses.dataclass(frozen=True)
class ReportOffer(Payload, prefix="roffer"):
    """Free text that reads like a complaint: make it a report?"""

    answer: int  # 1 yes, 2 no


@dataclasses.dataclass(frozen=True)
class ReportBuilding(Payload, prefix="rbld"):
    building_id: int


@dataclasses.dataclass(frozen=True)
class ReportCategory(Payload, prefix="rcat"):
    code: str  # a category code, checked against the configured ones


@dataclasses.dataclass(frozen=True)
class ReportSame(Payload, prefix="rsame"):
    """"Same problem (+1)" on an open report shown as a likely duplicate."""

    report_id: int


@dataclasses.dataclass(frozen=True)
class ReportNew(Payload, prefix="rnew"):
    """Not the same problem: submit the draft as a new report."""


@dataclasses.dataclass(frozen=True)
class FollowUp(Payload, prefix="rfollow"):
    """回访: the reporter answers "solved?"."""

    SOLVED: ClassVar[int] = 1
    NOT_YET: ClassVar[int] = 2
    report_id: int
    answer: int


@dataclasses.dataclass(frozen=True)
class ReportRating(Payload, prefix="rrate"):
    report_id: int
    stars: int  # 1-5


@dataclasses.dataclass(frozen=True)
class MyReport(Payload, prefix="rmine"):
    report_id: int


@dataclasses.dataclass(frozen=True)
class MyReportsPage(Payload, prefix="rpage"):
    """/myreports further back: page 2 holds the 11th to 20th newest."""

    page: int


@dataclasses.dataclass(frozen=True)
class TicketOpen(Payload, prefix="topen"):
    report_id: int


@dataclasses.dataclass(frozen=True)
class TicketAction(Payload, prefix="tact"):
    report_id: int
    action: int  # bot/conversations/reports.py TICKET_ACTIONS


@dataclasses.dataclass(frozen=True)
class TicketCategory(Payload, prefix="tcat"):
    report_id: int
    code: str


@dataclasses.dataclass(frozen=True)
class TicketTransfer(Payload, prefix="tmove"):
    report_id: int
    person_id: int


@dataclasses.dataclass(frozen=True)
class FaqKeep(Payload, prefix="faqkeep"):
    """Keep the FAQ entry's question or answer as shown."""


@dataclasses.dataclass(frozen=True)
class FaqAdd(Payload, prefix="faqadd"):
    pass


@dataclasses.dataclass(frozen=True)
class FaqDelete(Payload, prefix="faqdel"):
    entry_id: int


@dataclasses.dataclass(frozen=True)
class TicketFilter(Payload, prefix="tlist"):
    """/tickets narrowed: kind "c" a category code, "s" a status, "a" everything open."""

    kind: str
    value: str


@dataclasses.dataclass(frozen=True)
class TicketPage(Payload, prefix="tpage"):
    """The next page of a /tickets list (narrowed as TicketFilter): page 2 holds the 11th to 20th."""

    kind: str
    value: str
    page: int


# --- plans ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NewPlanIn(Payload, prefix="pnew"):
    compound_id: int


@dataclasses.dataclass(frozen=True)
class ItemClassPick(Payload, prefix="pcls"):
    plan_id: int
    item_class: int  # 1 basic, 2 improvement, 3 upgrade


@dataclasses.dataclass(frozen=True)
class PlanAction(Payload, prefix="pact"):
    plan_id: int
    action: int  # 1 add an item, 2 publish, 3 mute, 4 follow again


@dataclasses.dataclass(frozen=True)
class FeedbackOn(Payload, prefix="pfb"):
    plan_id: int
    kind: int  # 1 objection, 2 comment


@dataclasses.dataclass(frozen=True)
class AnswerFeedback(Payload, prefix="pans"):
    feedback_id: int


@dataclasses.dataclass(frozen=True)
class AdoptPlan(Payload, prefix="padopt"):
    plan_id: int


@dataclasses.dataclass(frozen=True)
class ItemWorks(Payload, prefix="pwork"):
    item_id: int
    action: int  # 1 progress, 2 works notice, 3 share costs


@dataclasses.dataclass(frozen=True)
class AcceptanceDone(Payload, prefix="pdone"):
    item_id: int
    answer: int  # 1 done, 2 not done


@dataclasses.dataclass(frozen=True)
class AcceptanceRating(Payload, prefix="prate"):
    item_id: int
    stars: int  # 1 to 5


@dataclasses.dataclass(frozen=True)
class SharePledge(Payload, prefix="pshare"):
    share_id: int
    answer: int  # 1 pledge, 2 dispute


@dataclasses.dataclass(frozen=True)
class CoefficientsFor(Payload, prefix="pcoef"):
    building_id: int


# --- votes ------------------------------------------------------------------------------


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
