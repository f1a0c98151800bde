"""Notices (/notice, 发通知): the author picks who hears it, writes the text (a photo with a
caption also works), sees how many it reaches, and sends it now or at a set time. Recipients
press 收到; the author follows delivered, failed and acknowledged counts in /notices (我的通知)
and may cancel what is not sent yet."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.conversations.feature import STALE_CHOICE, Command, Feature, Where
from bot.conversations.payloads import AcknowledgeNotice, CancelNotice, NoticeAction, NoticeTo
from bot.conversations.turn import Turn
from bot.conversations.when import parse_time
from bot.i18n import N_
from bot.replies import Attachment, L, Lines, Lplural, Option, Reply, Response, Text
from bot.services import notices
from bot.services.errors import DomainError
from storage.models import Audience, Notice, Role, utcnow

WRITING = "notices.text"  # data: audience, target_id, and a photo sent before the words
CONFIRMING = "notices.confirm"  # data: audience, target_id, text, photo
SCHEDULING = "notices.when"  # data: as CONFIRMING
AUDIENCE_CODES = {Audience.residents: 1, Audience.building_leaders: 2, Audience.group_chat: 3}
SEND_NOW, SEND_LATER, DISCARD = 1, 2, 3


def recipient_message(notice: Notice, author: str) -> Reply:
    """What each recipient reads, in their own language when it is sent."""
    title = L("Notice from party-member volunteer {name}", name=author) if notice.party_badge else L("Notice from {name}", name=author)
    attachment = Attachment("photo", file_id=notice.photo_file_id) if notice.photo_file_id else None
    return Reply(notice.text, title=title, options=(Option(L("Received"), AcknowledgeNotice(notice.id).pack()),), attachment=attachment)


async def start(turn: Turn, args: str = "") -> Response:
    choices = await notices.audiences(turn.session, turn.actor)
    if not choices:
        return Response.of(Reply(L("Notices are sent by volunteers, building leaders, grid workers and community administrators.")))
    options = tuple(Option(c.label, NoticeTo(AUDIENCE_CODES[c.audience], c.target_id).pack()) for c in choices)
    return Response.of(Reply(L("Who should receive the notice?"), options=options))


async def audience_chosen(turn: Turn, payload: NoticeTo) -> Response:
    audience = next((a for a, code in AUDIENCE_CODES.items() if code == payload.audience), None)
    if audience is None:
        return Response.refusal(STALE_CHOICE)
    try:
        choice = await notices.choose(turn.session, turn.actor, audience, payload.target_id)
    except DomainError as error:
        return Response.refusal(error.text())
    await turn.set_step(WRITING, audience=audience.value, target_id=choice.target_id)
    return Response.of(Reply(L("To: {audience}. Write the notice now (a photo with a caption works too).", audience=choice.label), replace=True))


async def text_written(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    photo = data.get("photo")  # sent before the words (WeChat's photos carry no caption)
    return await _preview(turn, text, str(photo) if photo else None)


async def photo_sent(turn: Turn, file_id: str, caption: str) -> Response:
    return await _preview(turn, caption, file_id)


async def _choice(turn: Turn, data: dict[str, object]) -> notices.AudienceChoice:
    return await notices.choose(turn.session, turn.actor, Audience(str(data["audience"])), int(str(data["target_id"])))


async def _preview(turn: Turn, text: str, photo: str | None) -> Response:
    _, data = await turn.step()
    if not text.strip():
        if photo:  # a photo alone: kept, and the words asked for
            await turn.set_step(WRITING, **{**data, "photo": photo})
            return Response.of(Reply(L("The photo is kept. Now write the words of the notice.")))
        return Response.of(Reply(L("The notice needs some words. Write them now.")))
    if len(text) > notices.MAX_TEXT_LENGTH:
        return Response.of(Reply(L("That is too long for one notice ({limit} characters at most). Please shorten it.", limit=notices.MAX_TEXT_LENGTH)))
    try:
        choice = await _choice(turn, data)
    except DomainError as error:
        await turn.clear()
        return Response.of(Reply(error.text()))
    count = await notices.count_recipients(turn.session, choice)
    if count == 0:
        await turn.clear()
        return Response.of(Reply(L("No one there can receive notices yet: nobody has joined the bot. Send /notice to choose others.")))
    await turn.set_step(CONFIRMING, **{**data, "text": text, "photo": photo})
    options = (
        Option(L("Send now"), NoticeAction(SEND_NOW).pack()),
        Option(L("Send at a set time"), NoticeAction(SEND_LATER).pack()),
        Option(L("Discard"), NoticeAction(DISCARD).pack()),
    )
    lines: list[Text] = [L("Preview. To: {audience}, reaching {count} chats.", audience=choice.label, count=count), "", text]
    return Response.of(Reply(Lines(lines), options=options))


async def action_chosen(turn: Turn, payload: NoticeAction) -> Response:
    step, data = await turn.step()
    if step != CONFIRMING:
        return Response.refusal(STALE_CHOICE)
    if payload.action == DISCARD:
        await turn.clear()
        return Response.of(Reply(L("Discarded; nothing was sent."), replace=True))
    if payload.action == SEND_LATER:
        await turn.set_step(SCHEDULING, **data)
        return Response.of(Reply(L("When should it go out? For example: 明天 9:00, 11-28 18:30, or 2026-12-01 08:00."), replace=True))
    if payload.action != SEND_NOW:
        return Response.refusal(STALE_CHOICE)
    return await _send(turn, data, None)


async def time_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    moment = parse_time(text, utcnow(), turn.timezone)
    if moment is None:
        return Response.of(Reply(L("I could not read {text} as a time to come. Try again, for example: 明天 9:00.", text=text)))
    return await _send(turn, data, moment)


async def _send(turn: Turn, data: dict[str, object], send_at: datetime | None) -> Response:
    await turn.clear()
    try:
        choice = await _choice(turn, data)
        notice = await notices.send(
            turn.session, turn.actor, choice, str(data["text"]), recipient_message,
            photo_file_id=str(data["photo"]) if data.get("photo") else None, send_at=send_at,
        )
    except DomainError as error:
        return Response.of(Reply(error.text()))
    if send_at is not None:
        when = send_at.astimezone(ZoneInfo(turn.timezone)).strftime("%Y-%m-%d %H:%M")
        return Response.of(Reply(L("Scheduled for {when}, to {count} chats. Follow it in /notices.", when=when, count=notice.recipients)))
    return Response.of(Reply(L("Sending to {count} chats. Follow it in /notices.", count=notice.recipients)))


async def acknowledged(turn: Turn, payload: AcknowledgeNotice) -> Response:
    try:
        await notices.acknowledge(turn.session, turn.person.id, payload.notice_id)
    except DomainError as error:
        return Response.refusal(error.text())
    return Response(notice=L("Thank you: marked as received."))


async def listing(turn: Turn, args: str = "") -> Response:
    recent = await notices.recent(turn.session, turn.actor)
    if not recent:
        return Response.of(Reply(L("You have sent no notices yet. Send /notice to write one.")))
    replies = []
    for item in recent:
        progress = item.progress
        text: Text = L(
            "{text}\nTo {total} chats: {sent} delivered, {failed} not delivered, {waiting} still to send, {acknowledged} received it.",
            text=item.notice.text[:60], total=item.notice.recipients, sent=progress.sent, failed=progress.failed,
            waiting=progress.pending + progress.sending, acknowledged=item.acknowledged,
        )
        if progress.waiting:
            # WeChat lets the bot write only within 48 hours of a person's last message.
            text = Lines((text, Lplural(
                "{n} person on WeChat gets it when they next write to the account.",
                "{n} people on WeChat get it when they next write to the account.",
                progress.waiting,
            )))
        options = () if progress.finished else (Option(L("Cancel the rest"), CancelNotice(item.notice.id).pack()),)
        replies.append(Reply(text, options=options))
    return Response(replies)


async def cancel_chosen(turn: Turn, payload: CancelNotice) -> Response:
    try:
        stopped = await notices.cancel(turn.session, turn.actor, payload.notice_id)
    except DomainError as error:
        return Response.refusal(error.text())
    return Response.of(Reply(L("Cancelled: {count} messages will not be sent.", count=stopped)))


SENDERS = frozenset({Role.admin, Role.grid_worker, Role.volunteer, Role.building_leader})
FEATURE = Feature(
    "notices",
    commands=(
        Command("notice", ("发通知",), N_("Send a notice"), start, Where.private, SENDERS),
        Command("notices", ("我的通知",), N_("Your notices: delivered, received, cancel"), listing, Where.private, SENDERS),
    ),
    payloads={NoticeTo: audience_chosen, NoticeAction: action_chosen, AcknowledgeNotice: acknowledged, CancelNotice: cancel_chosen},
    group_payloads=frozenset({AcknowledgeNotice}),  # a notice posted to a building's group is acknowledged there
    steps={WRITING: text_written, SCHEDULING: time_typed},
    photo_steps={WRITING: photo_sent},
)
