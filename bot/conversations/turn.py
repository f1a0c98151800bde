"""One turn of a conversation: who speaks, where, in which language, and where they are.

Flows (bot/conversations/*) take a Turn and return a Response; they never know the channel.
The conversation's step, its data and the options last offered live in the database: read
once in a turn, written once at its end (Turn.save), in the update's own transaction, so a
restart or another worker picks up where the person was.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.replies import Option, Response, render_text
from bot.routing import RoutingEngine
from bot.services import audit, people
from bot.services.people import PersonView
from bot.services.text import folded
from storage.db import UPSERT_INSERTS
from storage.models import Conversation, utcnow

# The statements of a conversation's row, built once (every update asks them; building one cost
# more than running it), on the table: the row is read as plain data and written once, at the
# end of the update, so no ORM object is tracked and flushed for it.
_table = Conversation.__table__
_KEY = ("channel", "chat_id", "person_id")
_THIS_CONVERSATION = and_(*(_table.c[column] == bindparam(column) for column in _KEY))
_CONVERSATION = select(_table.c.step, _table.c.data, _table.c.options).where(_THIS_CONVERSATION)
# The person behind an update with their conversation in this chat, in one statement (a Telegram
# update's first; person_id says whether there is a conversation row).
_PERSON_AND_CONVERSATION = people.PERSON_BY_IDENTITY.add_columns(_table.c.person_id, _table.c.step, _table.c.data, _table.c.options).outerjoin(
    _table, and_(_table.c.person_id == people.PERSON_ID, _table.c.channel == bindparam("channel"), _table.c.chat_id == bindparam("chat_id"))
)
_FORGET = delete(_table).where(_THIS_CONVERSATION)


def _upsert(insert: Any, columns: tuple[str, ...]) -> Any:
    statement = insert(_table)
    return statement.on_conflict_do_update(index_elements=list(_KEY), set_={column: statement.excluded[column] for column in (*columns, "updated_at")})


# By database, then which parts changed: the step and its data, the menu. A row is written
# only where it changed: the sender writes the menus it delivers (on PostgreSQL, at the same
# time as an update of the same person), and a step reached elsewhere stays when only a menu
# is shown.
_PARTS = {"step": ("step", "data"), "menu": ("options",)}
_SAVE = {
    (dialect, parts): _upsert(insert, tuple(column for part in parts for column in _PARTS[part]))
    for dialect, insert in UPSERT_INSERTS.items()
    for parts in (("step",), ("menu",), ("step", "menu"))
}


# Kept in a step's data, never shown to flows: the menu on screen when a flow's first step began.
# That menu answered an earlier question, so "2" typed now is for the step, not its second line
# (WeChat: 我的报告, then 报修, then 2). A digest rather than clearing the menu: the update then
# writes only the step, and a menu the sender delivers meanwhile stays, and counts.
_MENU_BEFORE = "_menu_before"


def _feature_of(step: str | None) -> str | None:
    """Steps are named by their feature: "reports.describe"."""
    return step.partition(".")[0] if step else None


def _shown_to_flows(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != _MENU_BEFORE}


def _digest(options: list[list[str]]) -> str:
    return hashlib.blake2b(json.dumps(options, ensure_ascii=False).encode(), digest_size=8).hexdigest()


@dataclass
class ConversationState:
    """Where a person is in a conversation: their step, its data, the newest menu."""

    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    options: list[list[str]] = field(default_factory=list)

    def menu(self) -> list[list[str]]:
        """The options that answer now: none if they were on screen before the step began."""
        before = self.data.get(_MENU_BEFORE)
        return [] if before is not None and self.options and before == _digest(self.options) else self.options


@dataclass(frozen=True)
class ChannelTraits:
    """What a channel can show, as far as flows and menus care."""

    name: str
    # Options are shown as numbered lines, so "2" chooses the second.
    numbered_options: bool
    # A link that opens a private chat with the bot, for things not said in a group.
    private_chat_link: str | None = None


@dataclass
class Turn:
    session: AsyncSession
    person: PersonView
    channel: ChannelTraits
    chat_id: str
    locale: str
    in_group: bool = False
    chat_title: str = ""
    timezone: str = "Asia/Shanghai"  # how times are read and shown (GONGJIAN_TIMEZONE)
    # The deployment's settings, for flows that follow them (a plan's notice days); None in
    # turns made without an application, where flows use the defaults.
    settings: Settings | None = None
    # The complaint router and its categories (with their deadlines), for flows that read
    # free text as a problem report; None where a channel runs without it.
    routing: RoutingEngine | None = None
    # The album a photo arrived in (Telegram's media_group_id): photos sent together are one thing.
    album: str | None = None
    # Where the person is, read once per turn (None: nowhere), and what of it changed.
    _state: ConversationState | None = field(default=None, repr=False)
    _read: bool = field(default=False, repr=False)
    _step_changed: bool = field(default=False, repr=False)
    _menu_changed: bool = field(default=False, repr=False)

    @classmethod
    async def of_sender(
        cls, session: AsyncSession, channel: ChannelTraits, external_id: str, chat_id: str, display_name: str, client_locale: str | None,
        default_locale: str, **turn: Any,
    ) -> Turn:
        """The turn of the person behind an identity (found, or created on first contact: see
        people.get_or_create_person) in a chat, in their language, their conversation there read
        in the same statement. For a channel whose updates of one chat are handled one at a time
        before they reach the database (Telegram, by aiogram's event isolation); WeChat's locks
        the person first and reads the conversation after."""
        person, conversation = await people.get_or_create_person_with(
            session, _PERSON_AND_CONVERSATION, {"chat_id": chat_id}, channel.name, external_id, display_name, client_locale
        )
        made = cls(session=session, person=person, channel=channel, chat_id=chat_id, locale=person.reading_locale(default_locale), **turn)
        if conversation is not None:
            found, step, data, options = conversation
            made._state, made._read = (ConversationState(step, data, options) if found is not None else None), True
        return made

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.channel.name, self.person.id)

    async def state(self) -> ConversationState | None:
        if not self._read:
            row = (await self.session.execute(_CONVERSATION, self._key())).first()
            self._state = ConversationState(row.step, row.data, row.options) if row is not None else None
            self._read = True
        return self._state

    async def step(self) -> tuple[str | None, dict[str, Any]]:
        state = await self.state()
        if state is None:
            return None, {}
        return state.step, _shown_to_flows(state.data)

    async def set_step(self, step: str, **data: Any) -> None:
        state = await self._writable()
        if _feature_of(step) == _feature_of(state.step):
            before = state.data.get(_MENU_BEFORE)  # the flow goes on: what came before its first step still did
        else:
            before = _digest(state.options) if state.options else None
        state.step = step
        state.data = {**data, _MENU_BEFORE: before} if before else data

    async def update_data(self, **data: Any) -> None:
        state = await self._writable()
        state.data = {**state.data, **data}

    async def clear(self) -> None:
        """Leave whatever step the person was on, and forget the options offered: the whole row
        goes (or is replaced, if a new step or menu follows in this turn)."""
        self._state, self._read = None, True
        self._step_changed = self._menu_changed = True

    async def save(self, response: Response | None) -> None:
        """At the end of the update, in its transaction: keep where the person now is, with the
        newest menu, labels as this person read them, so that typing a label (or its number,
        where options are numbered) chooses it, here or in another worker. One statement at
        most, none if nothing changed."""
        options = [option for reply in response.replies for option in reply.options] if response is not None else []
        if options:
            if self._state is None:
                self._state = ConversationState()
            self._state.options = [[render_text(option.label, self.locale), option.payload] for option in options]
            self._menu_changed = True
            if _MENU_BEFORE in self._state.data:  # this menu is the step's own
                self._state.data = _shown_to_flows(self._state.data)
                self._step_changed = True
        if self._state is None and self._step_changed:  # cleared, and nothing new since
            await self.session.execute(_FORGET, self._key())
        elif self._step_changed or self._menu_changed:
            await self._upsert(tuple(part for part, changed in (("step", self._step_changed), ("menu", self._menu_changed)) if changed))
        self._step_changed = self._menu_changed = False

    async def offered_options(self) -> tuple[Option, ...]:
        """The newest menu, as this person read it."""
        state = await self.state()
        return tuple(Option(label, payload) for label, payload in state.menu()) if state else ()

    async def chosen_payload(self, text: str) -> str | None:
        """The payload of the remembered option whose label (or number) `text` is."""
        state = await self.state()
        menu = state.menu() if state else []
        if not menu:
            return None
        wanted = folded(text).casefold()
        for label, payload in menu:
            if folded(label).casefold() == wanted:  # labels hold full-width punctuation: "好，报告给网格员"
                return payload
        if self.channel.numbered_options and wanted.isdecimal() and 1 <= int(wanted) <= len(menu):
            return menu[int(wanted) - 1][1]
        return None

    def _key(self) -> dict[str, Any]:
        return {"channel": self.channel.name, "chat_id": self.chat_id, "person_id": self.person.id}

    async def _writable(self) -> ConversationState:
        state = await self.state()
        if state is None:
            state = self._state = ConversationState()
        self._step_changed = True
        return state

    async def _upsert(self, parts: tuple[str, ...]) -> None:
        assert self._state is not None
        statement = _SAVE[self.session.bind.dialect.name, parts]
        state = self._state
        await self.session.execute(statement, {**self._key(), "step": state.step, "data": state.data, "options": state.options, "updated_at": utcnow()})
