"""What plans say: the plan read on a phone, and the messages the bot sends on its own about
plans (publication, objections, the notice's summary, progress, completion questions). Kept
apart from the flows so that sweeps send the same words."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.payloads import AcceptanceDone, AdoptPlan, AnswerFeedback, CommandChoice, FeedbackOn, ItemClassPick, PlanAction, SharePledge
from bot.i18n import N_
from bot.replies import Attachment, L, Lines, Lplural, Option, Reply, Response, Text, render_text
from bot.services import plans
from bot.services.cost_shares import FEN
from bot.services.errors import DomainError
from storage.models import CostShare, FeedbackKind, ItemClass, ItemStatus, Plan, PlanFeedback, PlanItem, PlanStatus, ShareStatus

CLASS_NAMES = {ItemClass.basic: N_("Basic (基础类)"), ItemClass.improvement: N_("Improvement (完善类)"), ItemClass.upgrade: N_("Upgrade (提升类)")}
PLAN_STATUS = {
    PlanStatus.draft: N_("draft"),
    PlanStatus.notice: N_("in public notice"),
    PlanStatus.notice_ended: N_("notice ended, to be adopted"),
    PlanStatus.adopted: N_("adopted, works under way"),
    PlanStatus.closed: N_("finished"),
}
ITEM_STATUS = {
    ItemStatus.planned: N_("not started"),
    ItemStatus.in_works: N_("in works"),
    ItemStatus.completed: N_("finished, residents confirming"),
    ItemStatus.accepted: N_("accepted by residents"),
    ItemStatus.not_accepted: N_("not accepted by residents"),
}
# A message on a phone: short enough to read without losing one's place (Telegram allows 4096).
MAX_MESSAGE_CHARS = 1500
BAR_CELLS = 10
# What the options' payloads carry (bot/conversations/payloads.py).
YES, NO = 1, 2
PLEDGE, DISPUTE = 1, 2
OBJECTION, COMMENT = 1, 2
ADD_ITEM, PUBLISH, MUTE, FOLLOW, TO_VOTE = 1, 2, 3, 4, 5
PROGRESS, WORKS_NOTICE, SHARE_COSTS = 1, 2, 3
CLASS_CODES = {1: ItemClass.basic, 2: ItemClass.improvement, 3: ItemClass.upgrade}
STALE = L("This button is no longer valid. Send /plans to start again.")


def yuan(amount: Decimal) -> str:
    return f"¥{amount.quantize(FEN):,}"


def progress_bar(percent: int) -> str:
    filled = round(percent * BAR_CELLS / 100)
    return "▓" * filled + "░" * (BAR_CELLS - filled) + f" {percent}%"


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else "?"


async def item_block(session: AsyncSession, item: PlanItem) -> Lines:
    lines: list[Text] = [f"{item.position}. {item.title}" + (f"（{item.category}）" if item.category else "")]
    if item.description:
        lines.append("   " + item.description)
    funding = [(N_("government {amount}"), item.funding_government), (N_("utility companies {amount}"), item.funding_utility),
               (N_("residents {amount}"), item.funding_residents), (N_("others {amount}"), item.funding_others)]
    parts = Lines([L(msgid, amount=yuan(amount)) for msgid, amount in funding if amount], "，")
    lines.append(L("   Budget {budget} ({parts})", budget=yuan(item.budget), parts=parts))
    names = await plans.building_names(session, item)
    if names:
        lines.append(L("   Buildings: {names}", names="、".join(names)))
    if item.starts_on or item.ends_on:
        lines.append(L("   Planned: {start} to {end}", start=_day(item.starts_on), end=_day(item.ends_on)))
    lines.append(L("   Status: {status} {bar}", status=L(ITEM_STATUS[item.status]), bar=progress_bar(item.progress)))
    return Lines(lines)


async def plan_view(session: AsyncSession, plan: Plan, compound_name: str, notice_until: str | None) -> list[Text]:
    """The plan as one or more messages: a head with totals and the funding split, then the
    items grouped by class, cut between items so that no message grows too long.
    `notice_until`: the notice's last day, as the reader's time zone has it, while in notice."""
    items = await plans.items_of(session, plan)
    total = sum((i.budget for i in items), Decimal(0))
    split = [(N_("Government {amount}"), sum((i.funding_government for i in items), Decimal(0))),
             (N_("Utility companies {amount}"), sum((i.funding_utility for i in items), Decimal(0))),
             (N_("Residents {amount}"), sum((i.funding_residents for i in items), Decimal(0))),
             (N_("Others {amount}"), sum((i.funding_others for i in items), Decimal(0)))]
    head: list[Text] = [
        L("【{compound}】{title}", compound=compound_name, title=plan.title),
        L("Status: {status}", status=L(PLAN_STATUS[plan.status])) if notice_until is None
        else L("Status: {status}, until {day}", status=L(PLAN_STATUS[plan.status]), day=notice_until),
        Lplural("{n} item, total budget {total}", "{n} items, total budget {total}", len(items), total=yuan(total)),
        Lines([L(msgid, amount=yuan(amount)) for msgid, amount in split], "；"),
    ]
    blocks: list[Text] = [Lines(head)]
    for item_class in ItemClass:
        of_class = [i for i in items if i.item_class is item_class]
        if of_class:
            blocks.append(L("—— {name} ——", name=L(CLASS_NAMES[item_class])))
            blocks += [await item_block(session, i) for i in of_class]
    return _packed(blocks)


def _packed(blocks: list[Text]) -> list[Text]:
    """Blocks joined into messages of at most MAX_MESSAGE_CHARS (measured in Chinese, the longer)."""
    messages: list[list[Text]] = [[]]
    size = 0
    for block in blocks:
        length = len(_rendered(block))
        if messages[-1] and size + length > MAX_MESSAGE_CHARS:
            messages.append([])
            size = 0
        messages[-1].append(block)
        size += length + 1
    return [Lines(group) for group in messages]


def _rendered(text: Text) -> str:
    return render_text(text, "zh_CN")


def published_message(plan: Plan, compound_name: str, until: str) -> Reply:
    return Reply(
        L("The renovation plan of {compound}, {title}, is in public notice until {day}. Read it and tell us what you think: send /plans.",
          compound=compound_name, title=plan.title, day=until),
        title=L("Public notice (公示)"), options=(Option(L("Read the plan"), CommandChoice("plans").pack()),),
    )


def feedback_message(feedback: PlanFeedback, plan: Plan, item: PlanItem | None, author: str) -> Reply:
    kind = L("Objection") if feedback.kind is FeedbackKind.objection else L("Comment")
    about = L("item {position}, {title}", position=item.position, title=item.title) if item else L("the whole plan")
    return Reply(
        L("{kind} on {plan}, {about}, from {name}:\n{text}", kind=kind, plan=plan.title, about=about, name=author, text=feedback.text),
        options=(Option(L("Answer"), AnswerFeedback(feedback.id).pack()),),
    )


def answer_message(feedback: PlanFeedback, plan: Plan) -> Reply:
    return Reply(L("The community office answered what you wrote about {plan}:\n{answer}", plan=plan.title, answer=feedback.answer or ""))


def summary_message(plan: Plan, counts: plans.FeedbackCounts) -> Reply:
    return Reply(
        L("The public notice of {plan} has ended: {objections} objections, {comments} comments, {unanswered} still unanswered. Adopt the plan when ready.",
          plan=plan.title, objections=counts.objections, comments=counts.comments, unanswered=counts.unanswered),
        options=(Option(L("Adopt the plan"), AdoptPlan(plan.id).pack()),),
    )


def adopted_message(plan: Plan) -> Reply:
    return Reply(L("The plan {plan} is adopted. You will hear how the works go; send /plans to follow it.", plan=plan.title))


def progress_message(item: PlanItem, percent: int, note: str, photo_file_id: str | None) -> Reply:
    text = L("Works on {title}: {bar}", title=item.title, bar=progress_bar(percent))
    attachment = Attachment("photo", file_id=photo_file_id) if photo_file_id else None
    return Reply(Lines([text, note]) if note else text, attachment=attachment)


def works_notice_message(item: PlanItem, text: str) -> Reply:
    return Reply(text, title=L("Works notice: {title}", title=item.title))


def acceptance_question(item: PlanItem) -> Reply:
    return Reply(
        L("The works on {title} are finished. Is it really done? (完工确认)", title=item.title),
        options=(Option(L("Yes, it is done"), AcceptanceDone(item.id, YES).pack()), Option(L("No, not done"), AcceptanceDone(item.id, NO).pack())),
    )


def acceptance_result(item: PlanItem, tally: plans.AcceptanceTally, accepted: bool) -> Reply:
    verdict = L(ITEM_STATUS[ItemStatus.accepted if accepted else ItemStatus.not_accepted])
    rating = str(tally.average_rating) if tally.average_rating is not None else "—"
    return Reply(L("{title}: {verdict}. {confirmed} said done, {not_done} said not done; average rating {rating}.",
                   title=item.title, verdict=verdict, confirmed=tally.confirmed, not_done=tally.not_done, rating=rating))


def shares_ready_message(item: PlanItem) -> Reply:
    return Reply(L("Your household's share of {title} is computed. Send /shares to see it and how it was worked out.", title=item.title),
                 options=(Option(L("See my share"), CommandChoice("shares").pack()),))


SHARE_STATUS = {ShareStatus.open: N_("not answered yet"), ShareStatus.pledged: N_("pledged"), ShareStatus.disputed: N_("disputed")}


def share_reply(share: CostShare, item: PlanItem, address: str) -> Reply:
    """A household's share and how it was computed."""
    text = L(
        "{address}: your share of {title} is {amount}.\nHow: floor {floor} coefficient {coefficient} × area {area} m² × {price} yuan per m² = {amount}.\n"
        "Residents pay {target} in all; the shares add up to exactly that.\nYour answer: {status}",
        address=address, title=item.title, amount=yuan(share.amount), floor=share.floor, coefficient=f"{share.coefficient.normalize():f}",
        area=str(share.area), price=str(share.price_per_m2), target=yuan(item.funding_residents), status=L(SHARE_STATUS[share.status]),
    )
    options = (Option(L("Pledge it (认缴)"), SharePledge(share.id, PLEDGE).pack()), Option(L("Dispute it"), SharePledge(share.id, DISPUTE).pack()))
    return Reply(text, options=options)


def refused(error: DomainError) -> Response:
    return Response.refusal(error.text())


def class_question(plan_id: int) -> Reply:
    options = tuple(Option(L(CLASS_NAMES[c]), ItemClassPick(plan_id, code).pack()) for code, c in CLASS_CODES.items())
    return Reply(L("Which class is the item?"), options=options)


def draft_options(plan_id: int) -> tuple[Option, ...]:
    return (Option(L("Add an item"), PlanAction(plan_id, ADD_ITEM).pack()), Option(L("Publish for public notice"), PlanAction(plan_id, PUBLISH).pack()))


def feedback_options(plan: Plan) -> tuple[Option, ...]:
    return (Option(L("Object"), FeedbackOn(plan.id, OBJECTION).pack()), Option(L("Add a comment"), FeedbackOn(plan.id, COMMENT).pack()))

