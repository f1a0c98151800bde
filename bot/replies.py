"""Channel-neutral replies: what the bot says, before any channel decides how it looks.

A reply is text, options (a label and a payload each), and perhaps a photo, a document or a
link. Texts stay untranslated message ids with their parameters until a channel renders them
in the reader's language, so the same reply can go to someone other than the sender (a
notification, a group) and be read in that person's language. Telegram shows options as
buttons, a text-only channel as numbered lines.

    Reply(L("You have joined {address}.", address=address), options=(Option(L("My households"), "me"),))

A reply the bot sends on its own waits in the outbox as JSON (`reply_to_json`), texts still
message ids, so it is rendered in each recipient's language when it is sent.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
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


# A file id belongs to the channel it came from. WeChat's (an image's MediaId) carry this prefix;
# Telegram's, which were the only ones before, carry none.
WECHAT_FILE_PREFIX = "wechat:"
PHOTO_NOT_SHOWN = L("(A photo came with this message, but it cannot be shown here.)")


@dataclass(frozen=True)
class Attachment:
    """A photo or document: bytes to upload, or a channel's file id of something already there."""

    kind: str  # "photo" or "document"
    content: bytes | None = None
    file_id: str | None = None
    filename: str = "file"

    @property
    def file_channel(self) -> str | None:
        """The channel whose file id this is; None for bytes, which every channel can upload."""
        if self.file_id is None:
            return None
        return "wechat" if self.file_id.startswith(WECHAT_FILE_PREFIX) else "telegram"


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


def shown_on(reply: Reply, channel: str) -> Reply:
    """The reply as `channel` can show it. Another channel's file id cannot be sent (a Telegram
    file id means nothing to WeChat, nor a WeChat MediaId to Telegram): the text goes with a
    note that a photo came with it, never an error."""
    attachment = reply.attachment
    if attachment is None or attachment.file_channel in (None, channel):
        return reply
    return replace(reply, text=Lines((reply.text, PHOTO_NOT_SHOWN)), attachment=None)


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


# --- JSON, for replies that wait in the outbox ------------------------------------------------

# Telegram takes photos up to 10 MB; a chart or QR code the bot draws is far below 1 MB.
MAX_ATTACHMENT_BYTES = 1_000_000

JsonValue = Any


def reply_to_json(reply: Reply) -> dict[str, JsonValue]:
    """The reply as JSON, texts kept as message ids and parameters.

    An attachment travels as a channel's file id, or as its bytes (a chart, a QR code the bot
    drew) in base64: the reply is stored once per message, not once per recipient, so a chart
    sent to a whole compound is kept once. Bytes are limited to MAX_ATTACHMENT_BYTES.
    `replace` is left out: it concerns the answer to a pressed button, never a message sent
    on the bot's own initiative.
    """
    data: dict[str, JsonValue] = {"text": _text_to_json(reply.text)}
    if reply.title is not None:
        data["title"] = _text_to_json(reply.title)
    if reply.options:
        data["options"] = [[_text_to_json(o.label), o.payload] for o in reply.options]
        data["columns"] = reply.columns
    if reply.link is not None:
        data["link"] = [_text_to_json(reply.link.label), reply.link.url]
    if reply.attachment is not None:
        attachment = reply.attachment
        data["attachment"] = {"kind": attachment.kind, "file_id": attachment.file_id, "filename": attachment.filename}
        if attachment.file_id is None:
            content = attachment.content or b""
            if len(content) > MAX_ATTACHMENT_BYTES:
                raise ValueError(f"an attachment of {len(content)} bytes is too large for the outbox; upload it and pass its file id")
            data["attachment"]["content"] = base64.b64encode(content).decode("ascii")
    return data


def reply_from_json(data: Mapping[str, JsonValue]) -> Reply:
    link = data.get("link")
    attachment = data.get("attachment")
    return Reply(
        text=_text_from_json(data["text"]),
        title=_text_from_json(data["title"]) if "title" in data else None,
        options=tuple(Option(_text_from_json(label), payload) for label, payload in data.get("options", ())),
        columns=data.get("columns", 1),
        link=Link(_text_from_json(link[0]), link[1]) if link else None,
        attachment=_attachment_from_json(attachment) if attachment else None,
    )


def _attachment_from_json(data: Mapping[str, JsonValue]) -> Attachment:
    content = base64.b64decode(data["content"]) if "content" in data else None
    return Attachment(data["kind"], content=content, file_id=data["file_id"], filename=data["filename"])


def _text_to_json(text: Text) -> JsonValue:
    if isinstance(text, str):
        return text
    if isinstance(text, Lines):
        return {"lines": [_text_to_json(item) for item in text.items], "separator": _text_to_json(text.separator)}
    data: dict[str, JsonValue] = {"msg": text.msgid, "params": {key: _param_to_json(value) for key, value in text.params.items()}}
    if text.plural is not None:
        data["plural"], data["n"] = text.plural, text.n
    return data


def _param_to_json(value: Any) -> JsonValue:
    # bool is an int: both, like str and None, are JSON as they are.
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (Msg, Lines)):
        return _text_to_json(value)
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    raise TypeError(f"a {type(value).__name__} cannot wait in the outbox as a text parameter; pass str, a number, Decimal or a text")


def _text_from_json(data: JsonValue) -> Text:
    if isinstance(data, str):
        return data
    if "lines" in data:
        return Lines(tuple(_text_from_json(item) for item in data["lines"]), _text_from_json(data["separator"]))
    params = {key: _param_from_json(value) for key, value in data["params"].items()}
    return Msg(data["msg"], params, data.get("plural"), data.get("n", 0))


def _param_from_json(data: JsonValue) -> Any:
    if isinstance(data, dict):
        return Decimal(data["decimal"]) if "decimal" in data else _text_from_json(data)
    return data
