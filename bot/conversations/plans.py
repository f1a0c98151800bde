"""Plans in the chat. /plans (方案): read the compound's plan, object or comment during the
notice, mute it; admins add items, publish and adopt there. /works (施工): admins and grid
workers post progress and works notices. Residents answer the completion question (完工确认)
that the works' end sends them. Drafting (/newplan) is in plan_drafting, shared costs
(/shares, /coefficients) in plan_shares; this module's FEATURE declares all of them."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.conversations import plan_drafting, plan_shares
from bot.conversations import plan_messages as messages
from bot.conversations import votes as votes_flow
from bot.conversations.feature import Command, Feature, Where
from bot.conversations.payloads import (
    AcceptanceDone,
    AcceptanceRating,
    AdoptPlan,
    AnswerFeedback,
    CoefficientsFor,
    FeedbackOn,
    ItemClassPick,
    ItemWorks,
    NewPlanIn,
    PlanAction,
    SharePledge,
)
from bot.conversations.plan_messages import refused
from bot.conversations.reports import categories as report_categories
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Lines, Option, Reply, Response, render_text
from bot.services import places, plan_links, plans
from bot.services.errors import DomainError
from bot.services.text import compact
from storage.models import FeedbackKind, Plan, PlanStatus, Role

FEEDBACK_TEXT = "plans.feedback"  # data: plan_id, kind
ANSWER_TEXT = "plans.answer"  # data: feedback_id
PROGRESS_TEXT = "plans.progress"  # data: item_id
WORKS_NOTICE_TEXT = "plans.works_notice"  # data: item_id
NOT_DONE_NOTE = "plans.not_done"  # data: item_id


def _settings(turn: Turn) -> Settings:
    return turn.settings or Settings()


def _day(moment: datetime | None, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d") if moment else "?"


async def _compound_name(turn: Turn, plan: Plan) -> str:
    return await places.place_name(turn.session, plan.compound_id) or ""


# --- reading the plan -----------------------------------------------------------------------


async def show_plans(turn: Turn, args: str = "") -> Response:
    found = await plans.visible_plans(turn.session, turn.actor)
    if not found:
        return Response.of(Reply(L("No renovation plan has been published for your compound yet. You will be told when there is one.")))
    replies: list[Reply] = []
    for plan in found:
        until = _day(plan.notice_ends_at, turn.timezone) if plan.status is PlanStatus.notice else None
        texts = await messages.plan_view(turn.session, plan, await _compound_name(turn, plan), until)
        replies += [Reply(text) for text in texts[:-1]]
        replies.append(Reply(texts[-1], options=await _plan_options(turn, plan)))
    return Response(replies)


async def _plan_options(turn: Turn, plan: Plan) -> tuple[Option, ...]:
    if await plans.may_manage(turn.session, turn.actor, plan):
        if plan.status is PlanStatus.draft:
            return messages.draft_options(plan.id)
        to_vote = Option(L("Put its items to a vote"), PlanAction(plan.id, messages.TO_VOTE).pack())
        if plan.status is PlanStatus.notice_ended:
            return (Option(L("Adopt the plan"), AdoptPlan(plan.id).pack()), to_vote)
        if plan.status is PlanStatus.adopted:
            return (to_vote,)
    if plan.status is PlanStatus.notice:
        return messages.feedback_options(plan)
    if plan.status is PlanStatus.adopted:
        muted = await plans.is_muted(turn.session, plan, turn.person.id)
        return (Option(L("Follow the works again"), PlanAction(plan.id, messages.FOLLOW).pack()),) if muted else (Option(L("Mute the works news"), PlanAction(plan.id, messages.MUTE).pack()),)
    return ()


async def plan_action(turn: Turn, payload: PlanAction) -> Response:
    try:
        if payload.action == messages.ADD_ITEM:
            return Response.of(messages.class_question((await plans.draft_to_change(turn.session, turn.actor, payload.plan_id)).id))
        if payload.action == messages.PUBLISH:
            return await _publish(turn, payload.plan_id)
        if payload.action == messages.TO_VOTE:
            return await _to_vote(turn, payload.plan_id)
        if payload.action in (messages.MUTE, messages.FOLLOW):
            await plans.set_muted(turn.session, turn.actor, payload.plan_id, payload.action == messages.MUTE)
            return Response(notice=L("You will no longer get news of these works.") if payload.action == messages.MUTE else L("You will get news of these works again."))
    except DomainError as error:
        return refused(error)
    return Response.refusal(messages.STALE)


async def _to_vote(turn: Turn, plan_id: int) -> Response:
    """A consultation of the compound's households on the plan's items (which first?): the
    vote's own steps follow (how many each may choose, when it closes, a preview)."""
    plan = await plans.get_plan(turn.session, plan_id)
    if not await plans.may_manage(turn.session, turn.actor, plan):
        return Response.refusal(messages.STALE)
    items = await plan_links.items_for_vote(turn.session, [item.id for item in await plans.items_of(turn.session, plan)])
    if len(items) < 2:
        return Response.refusal(L("A vote needs at least two items to choose from."))
    explanation = render_text(L("Items of the renovation plan {title}: which should come first?", title=plan.title), turn.locale)
    return await votes_flow.consultation_on(turn, plan.compound_id, plan.title, explanation, list(items))


async def _publish(turn: Turn, plan_id: int) -> Response:
    plan = await plans.get_plan(turn.session, plan_id)
    compound = await _compound_name(turn, plan)

    def message(published: Plan) -> Reply:
        return messages.published_message(published, compound, _day(published.notice_ends_at, turn.timezone))

    count = await plans.publish(turn.session, turn.actor, plan.id, _settings(turn).plan_notice_days, message)
    return Response.of(Reply(L("Published. {count} chats are told; the public notice runs until {day}.", count=count, day=_day(plan.notice_ends_at, turn.timezone)), replace=True))


# --- objections and comments ----------------------------------------------------------------


async def feedback_chosen(turn: Turn, payload: FeedbackOn) -> Response:
    if payload.kind not in (messages.OBJECTION, messages.COMMENT):
        return Response.refusal(messages.STALE)
    plan = await turn.session.get(Plan, payload.plan_id)
    if plan is None or plan.status is not PlanStatus.notice:
        return Response.refusal(L(plans.NOT_IN_NOTICE))
    await turn.set_step(FEEDBACK_TEXT, plan_id=plan.id, kind=payload.kind)
    ask = L("Write your objection.") if payload.kind == messages.OBJECTION else L("Write your comment.")
    return Response.of(Reply(Lines([ask, L("To speak of one item, start with its number, like: 2 电梯位置挡住了窗户")])))


async def feedback_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.clear()
    plan = await plans.get_plan(turn.session, int(data["plan_id"]))
    number, _, rest = text.strip().partition(" ")
    items = {i.position: i for i in await plans.items_of(turn.session, plan)}
    item = items.get(int(compact(number))) if compact(number).isdecimal() and rest.strip() else None
    kind = FeedbackKind.objection if data["kind"] == messages.OBJECTION else FeedbackKind.comment
    try:
        feedback = await plans.give_feedback(turn.session, turn.actor, plan.id, item.id if item else None, kind, rest.strip() if item else text.strip())
    except DomainError as error:
        return Response.of(Reply(error.text()))
    await plans.send_feedback(turn.session, feedback, messages.feedback_message(feedback, plan, item, turn.person.display_name))
    return Response.of(Reply(L("Thank you. The community office has it and will answer you here.")))


async def answer_chosen(turn: Turn, payload: AnswerFeedback) -> Response:
    try:
        await plans.feedback_to_answer(turn.session, turn.actor, payload.feedback_id)
    except DomainError as error:
        return refused(error)
    await turn.set_step(ANSWER_TEXT, feedback_id=payload.feedback_id)
    return Response.of(Reply(L("Write your answer; the resident gets it from the bot.")))


async def answer_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.clear()
    try:
        feedback = await plans.answer_feedback(turn.session, turn.actor, int(data["feedback_id"]), text.strip())
    except DomainError as error:
        return Response.of(Reply(error.text()))
    plan = await plans.get_plan(turn.session, feedback.plan_id)
    if feedback.person_id is not None:
        await plans.tell(turn.session, feedback.person_id, messages.answer_message(feedback, plan), f"plan:{plan.id}:feedback")
    return Response.of(Reply(L("Your answer is sent.")))


async def adopt_chosen(turn: Turn, payload: AdoptPlan) -> Response:
    try:
        plan = await plans.get_plan(turn.session, payload.plan_id)
        count = await plans.adopt(turn.session, turn.actor, plan.id, messages.adopted_message(plan))
    except DomainError as error:
        return refused(error)
    return Response.of(Reply(L("The plan is adopted; {count} chats are told. Post the works' progress with /works.", count=count), replace=True))


# --- works ----------------------------------------------------------------------------------


async def show_works(turn: Turn, args: str = "") -> Response:
    items = await plans.works_items(turn.session, turn.actor)
    if not items:
        return Response.of(Reply(L("No works to follow: adopted plans' items appear here.")))
    replies = []
    for item in items:
        plan = await plans.get_plan(turn.session, item.plan_id)
        options = [Option(L("Post progress"), ItemWorks(item.id, messages.PROGRESS).pack()), Option(L("Works notice"), ItemWorks(item.id, messages.WORKS_NOTICE).pack())]
        if item.funding_residents > 0 and await plans.may_manage(turn.session, turn.actor, plan):
            options.append(Option(L("Share the residents' part"), ItemWorks(item.id, messages.SHARE_COSTS).pack()))
        replies.append(Reply(L("{plan}: {position}. {title} {bar}", plan=plan.title, position=item.position, title=item.title, bar=messages.progress_bar(item.progress)), options=tuple(options)))
    return Response(replies)


async def works_chosen(turn: Turn, payload: ItemWorks) -> Response:
    try:
        await plans.works_item(turn.session, turn.actor, payload.item_id)
    except DomainError as error:
        return refused(error)
    if payload.action == messages.PROGRESS:
        await turn.set_step(PROGRESS_TEXT, item_id=payload.item_id)
        return Response.of(Reply(L("Write the progress: a percentage, then a note, like: 60 管道已铺完. A photo with that as its caption works too. 100 means finished: residents will be asked to confirm.")))
    if payload.action == messages.WORKS_NOTICE:
        await turn.set_step(WORKS_NOTICE_TEXT, item_id=payload.item_id)
        return Response.of(Reply(L("Write the works notice for the item's buildings, like: 明天9点到12点停水")))
    if payload.action == messages.SHARE_COSTS:
        return await plan_shares.share_costs(turn, payload.item_id)
    return Response.refusal(messages.STALE)


async def progress_typed(turn: Turn, text: str) -> Response:
    return await _progress(turn, text, None)


async def progress_photo(turn: Turn, file_id: str, caption: str) -> Response:
    return await _progress(turn, caption, file_id)


def _split_number(text: str) -> tuple[int | None, str]:
    """"60 管道已铺完" → (60, "管道已铺完"); full-width "６０％" is read too."""
    found = re.match(r"\s*(\d{1,3})\s*%?\s*(.*)", unicodedata.normalize("NFKC", text), re.S)
    if found is None or int(found.group(1)) > 100:
        return None, ""
    return int(found.group(1)), found.group(2).strip()


async def _progress(turn: Turn, text: str, photo: str | None) -> Response:
    _, data = await turn.step()
    percent, note = _split_number(text)
    if percent is None:
        return Response.of(Reply(L(plans.BAD_PERCENT)))
    await turn.clear()
    try:
        item = await plans.get_item(turn.session, int(data["item_id"]))
        await plans.post_progress(turn.session, turn.actor, item.id, percent, note, photo, messages.progress_message(item, percent, note, photo))
        if percent == 100:
            await plans.complete(turn.session, item, _settings(turn).plan_acceptance_days, messages.acceptance_question(item))
    except DomainError as error:
        return Response.of(Reply(error.text()))
    done = L("Residents of its buildings are asked to confirm it is done.") if percent == 100 else ""
    return Response.of(Reply(Lines([L("Saved: {bar}", bar=messages.progress_bar(percent)), done])))


async def works_notice_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.clear()
    try:
        item = await plans.get_item(turn.session, int(data["item_id"]))
        count = await plans.send_works_notice(turn.session, turn.actor, item.id, messages.works_notice_message(item, text.strip()))
    except DomainError as error:
        return Response.of(Reply(error.text()))
    return Response.of(Reply(L("The works notice goes to {count} chats.", count=count)))


# --- acceptance -----------------------------------------------------------------------------


async def acceptance_answered(turn: Turn, payload: AcceptanceDone) -> Response:
    if payload.answer not in (messages.YES, messages.NO):
        return Response.refusal(messages.STALE)
    try:
        await plans.answer_acceptance(turn.session, turn.actor, payload.item_id, payload.answer == messages.YES)
    except DomainError as error:
        return refused(error)
    if payload.answer == messages.NO:
        await turn.set_step(NOT_DONE_NOTE, item_id=payload.item_id)
        return Response.of(Reply(L("What is not done? Write it in a few words; it is passed on as a problem report."), replace=True))
    stars = tuple(Option("★" * n, AcceptanceRating(payload.item_id, n).pack()) for n in range(1, 6))
    return Response.of(Reply(L("Thank you. How do you rate the work?"), options=stars, columns=5, replace=True))


async def rating_chosen(turn: Turn, payload: AcceptanceRating) -> Response:
    try:
        await plans.add_acceptance_detail(turn.session, turn.actor, payload.item_id, rating=payload.stars)
    except DomainError as error:
        return refused(error)
    return Response.of(Reply(L("Thank you for your rating."), replace=True))


async def not_done_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.clear()
    try:
        answer = await plans.add_acceptance_detail(
            turn.session, turn.actor, int(data["item_id"]), note=text.strip(), categories=report_categories(turn), timezone=turn.timezone
        )
    except DomainError as error:
        return Response.of(Reply(error.text()))
    return Response.of(
        Reply(L("Thank you. Your words are now problem report #{id}; you will be told of every change. See /myreports.", id=answer.report_id))
    )


MANAGERS = frozenset({Role.admin})
FEATURE = Feature(
    "plans",
    commands=(
        Command("plans", ("方案", "改造方案"), N_("The renovation plan: read it, object, follow the works"), show_plans, Where.private),
        # Not in the menus, which WeChat limits to seven: a share's message offers it, and /help lists it.
        Command("shares", ("分摊", "我的分摊"), N_("Your household's share of costs, and pledges"), plan_shares.show_shares, Where.private, in_menu=False),
        Command("newplan", ("新方案",), N_("Draft a renovation plan"), plan_drafting.new_plan, Where.private, MANAGERS, in_menu=False),
        Command("works", ("施工",), N_("Post works progress and works notices"), show_works, Where.private, frozenset({Role.admin, Role.grid_worker}), in_menu=False),
        Command("coefficients", ("楼层系数",), N_("A building's floor coefficients for shared costs"), plan_shares.show_coefficients, Where.private, MANAGERS, in_menu=False),
    ),
    payloads={
        NewPlanIn: plan_drafting.compound_chosen, ItemClassPick: plan_drafting.class_chosen, PlanAction: plan_action, FeedbackOn: feedback_chosen, AnswerFeedback: answer_chosen,
        AdoptPlan: adopt_chosen, ItemWorks: works_chosen, AcceptanceDone: acceptance_answered, AcceptanceRating: rating_chosen,
        SharePledge: plan_shares.share_answered, CoefficientsFor: plan_shares.coefficients_chosen,
    },
    steps={
        **plan_drafting.STEPS, FEEDBACK_TEXT: feedback_typed, ANSWER_TEXT: answer_typed, PROGRESS_TEXT: progress_typed,
        WORKS_NOTICE_TEXT: works_notice_typed, NOT_DONE_NOTE: not_done_typed,
        plan_shares.DISPUTE_NOTE: plan_shares.dispute_typed, plan_shares.COEFFICIENTS_TEXT: plan_shares.coefficients_typed,
    },
    photo_steps={PROGRESS_TEXT: progress_photo},
    answers=frozenset({FEEDBACK_TEXT, ANSWER_TEXT, PROGRESS_TEXT, WORKS_NOTICE_TEXT, NOT_DONE_NOTE, plan_shares.DISPUTE_NOTE, plan_shares.COEFFICIENTS_TEXT}),
)
