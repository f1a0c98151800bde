"""One turn of a conversation: who speaks, where, in which language, and where they are.

Flows (bot/conversations/*) take a Turn and return a Response; they never know the channel.
The conversation's step, its data and the options last offered live in the database, in the
update's own transaction, so a restart or another worker picks up where the person was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.replies import Option, Response, render_text
from bot.routing import RoutingEngine
from bot.services import audit
from storage.models import Conversation, Person

# Built once, as every update asks them (a Session.get, or a statement built per call, cost more
# than running it).
_conversations = Conversation.__table__.c
_THIS_CONVERSATION = and_(
    _conversations.channel == bindparam("channel"), _conversations.chat_id == bindparam("chat_id"), _conversations.person_id == bindparam("person_id")
)
_CONVERSATION = select(Conversation).where(_THIS_CONVERSATION)
_FORGET = delete(Conversation.__table__).where(_THIS_CONVERSATION)


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
    person: Person
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
    _conversation: Conversation | None = field(default=None, repr=False)
    _loaded: bool = field(default=False, repr=False)

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.channel.name, self.person.id)

    async def conversation(self) -> Conversation | None:
        if not self._loaded:
            self._conversation = await self.session.scalar(_CONVERSATION, self._key())
            self._loaded = True
        return self._conversation

    async def step(self) -> tuple[str | None, dict[str, Any]]:
        conversation = await self.conversation()
        return (conversation.step, dict(conversation.data)) if conversation else (None, {})

    async def set_step(self, step: str, **data: Any) -> None:
        conversation = await self._writable()
        conversation.step, conversation.data = step, data

    async def update_data(self, **data: Any) -> None:
        conversation = await self._writable()
        conversation.data = {**conversation.data, **data}

    async def clear(self) -> None:
        """Leave whatever step the person was on, and forget the options offered."""
        await self.session.execute(_FORGET, self._key())
        if self._conversation is not None:
            self.session.expunge(self._conversation)  # its row is gone: a new step starts a new one
        self._conversation, self._loaded = None, True

    async def remember_options(self, response: Response) -> None:
        """Keep the newest menu, labels as this person read them, so that typing a label (or
        its number, where options are numbered) chooses it, here or in another worker."""
        options = [option for reply in response.replies for option in reply.options]
        if not options:
            return
        conversation = await self._writable()
        conversation.options = [[render_text(option.label, self.locale), option.payload] for option in options]

    async def offered_options(self) -> tuple[Option, ...]:
        """The newest menu, as this person read it."""
        conversation = await self.conversation()
        return tuple(Option(label, payload) for label, payload in conversation.options) if conversation else ()

    async def chosen_payload(self, text: str) -> str | None:
        """The payload of the remembered option whose label (or number) `text` is."""
        conversation = await self.conversation()
        if conversation is None or not conversation.options:
            return None
        wanted = text.strip().casefold()
        for label, payload in conversation.options:
            if label.casefold() == wanted:
                return payload
        if self.channel.numbered_options and wanted.isdecimal() and 1 <= int(wanted) <= len(conversation.options):
            return conversation.options[int(wanted) - 1][1]
        return None

    def _key(self) -> dict[str, Any]:
        return {"channel": self.channel.name, "chat_id": self.chat_id, "person_id": self.person.id}

    async def _writable(self) -> Conversation:
        conversation = await self.conversation()
        if conversation is None:
            conversation = Conversation(channel=self.channel.name, chat_id=self.chat_id, person_id=self.person.id, data={}, options=[])
            self.session.add(conversation)
            self._conversation = conversation
        return conversation
