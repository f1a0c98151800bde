"""Channel-neutral replies: what the bot says, before any channel decides how it looks.

A reply is text, options (a label and a payload each), and perhaps a photo, a document or a
link. Texts stay untranslated message ids with their parameters until a channel renders them
in the reader's language, so the same reply can go to someone other than the sender (a
notification, a group) and be read in that person's language. Telegram shows options as
buttons, a text-only channel as numbered lines.

    Reply(L("You have joined {address}.", address=address), options=(Option(L("My households"), "me"),))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import translate, translate_plural


@dataclass(frozen=True)
class Msg:
    """A message id and its parameters, translated when rendered. Parameters may be Msgs too."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int = 0

    def render(self, locale: str) -> str:
        template = translate_plural(locale, self.msgid, self.plural, self.n) if self.plural else translate(locale, self.msgid)
        params = {key: render_text(value, locale) if isinstance(value, (Msg, Lines)) else value for key, value in self.params.items()}
        return template.format(n=self.n, **params) if self.plural else template.format(**params)


@dataclass(frozen=True)
class Lines:
    """Several texts joined, each rendered on its own."""

    items: Sequence[Text]
    separator: Text = "\n"

    def render(self, locale: str) -> str:
        return render_text(self.separator, locale).join(render_text(item, locale) for item in self.items)


# A str is shown as it is: names and what people typed, never translated.
Text = str | Msg | Lines


def L(msgid: str, **params: Any) -> Msg:  # noqa: N802 - gettext-style marker, extracted by Babel
    """A translatable text, rendered later in the reader's language."""
    return Msg(msgid, params)


def Lplural(singular: str, plural: str, n: int, **params: Any) -> Msg:  # noqa: N802
    """A translatable text whose form depends on `n` (available as {n})."""
    return Msg(singular, params, plural, n)


def render_text(text: Text, locale: str) -> str:
    return text if isinstance(text, str) else text.render(locale)


@dataclass(frozen=True)
class Option:
    label: Text
    payload: str


@dataclass(frozen=True)
class Link:
    label: Text
    url: str


@dataclass(frozen=True)
class Attachment:
    """A photo or document: bytes to upload, or a channel's file id of something already there."""

    kind: str  # "photo" or "document"
    content: bytes | None = None
    file_id: str | None = None
    filename: str = "file"


@dataclass(frozen=True)
class Reply:
    text: Text
    title: Text | None = None
    options: tuple[Option, ...] = ()
    columns: int = 1  # options a row where they are buttons
    link: Link | None = None
    attachment: Attachment | None = None
    # Replace the message whose button was pressed, where the channel can edit messages.
    replace: bool = False


@dataclass
class Response:
    """Everything one incoming message or button press gets back."""

    replies: list[Reply] = field(default_factory=list)
    # A short notice about a pressed button: a toast (or, with `alert`, a dialog) on Telegram;
    # a message where the channel has neither, or when no button was pressed.
    notice: Text | None = None
    alert: bool = False

    @classmethod
    def of(cls, *replies: Reply) -> Response:
        return cls(list(replies))

    @classmethod
    def refusal(cls, text: Text) -> Response:
        """Something the person may not or cannot do; nothing changed."""
        return cls(notice=text, alert=True)
