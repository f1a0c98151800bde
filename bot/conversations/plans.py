"""Plans in the chat. /plans (方案): read the compound's plan, object or comment during the
notice, mute it; admins add items, publish and adopt there. /newplan (新方案): an admin drafts
a plan step by step. /works (施工): admins and grid workers post progress and works notices,
admins share an item's costs. /shares (分摊): a household's share, pledged or disputed; leaders
and admins see pledges against the target. /coefficients (楼层系数): a building's coefficients.
Residents answer the completion question (完工确认) that the works' end sends them."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.conversations import plan_messages as messages
from bot.conversations.feature import Command, Feature, Where
from bot.conversations.payloads import (
    AcceptanceDone,
    AcceptanceRating,
    AdoptPlan,
    AnswerFeedback,
    CoefficientsFor,
    CommandChoice,
    FeedbackOn,
    ItemClassPick,
    ItemWorks,
    NewPlanIn,
    PlanAction,
    SharePledge,
)
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Lines, Option, Reply, Response, Text
from bot.services import cost_shares, places, plan_costs, plans
from bot.services.errors import DomainError
from bot.services.text import compact
from storage.models import FeedbackKind, ItemClass, Place, Plan, PlanStatus, Role, ShareStatus

PLAN_TITLE = "plans.title"  # data: compound_id
ITEM_TITLE = "plans.item_title"  # data: plan_id, item_class
ITEM_CATEGORY = "plans.item_category"  # data: + title, description
ITEM_FUNDING = "plans.item_funding"  # data: + category
ITEM_BUILDINGS = "plans.item_buildings"  # data: + funding
ITEM_DATES = "plans.item_dates"  # data: + building_ids
FEEDBACK_TEXT = "plans.feedback"  # data: plan_id, kind
ANSWER_TEXT = "plans.answer"  # data: feedback_id
PROGRESS_TEXT = "plans.progress"  # data: item_id
WORKS_NOTICE_TEXT = "plans.works_notice"  # data: item_id
NOT_DONE_NOTE = "plans.not_done"  # data: item_id
DISPUTE_NOTE = "plans.dispute"  # data: share_id
COEFFICIENTS_TEXT = "plans.coefficients"  # data: building_id

CLASS_CODES = {1: ItemClass.basic, 2: ItemClass.improvement, 3: ItemClass.upgrade}
ADD_ITEM, PUBLISH, MUTE, FOLLOW = 1, 2, 3, 4
PROGRESS, WORKS_NOTICE, SHARE_COSTS = 1, 2, 3
SKIP_WORDS = ("跳过", "skip", "无", "-")
STALE = L("This button is no longer valid. Send /plans to start again.")
AMOUNT_SEPARATORS = re.compile(r"[\s、，;；]+")  # a comma alone may be a thousands separator
DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})")


def _settings(turn: Turn) -> Settings:
    return turn.settings or Settings()


def _day(moment: datetime | None, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d") if moment else "?"


async def _compound_name(turn: Turn, plan: Plan) -> str:
    return await places.place_name(turn.session, plan.compound_id) or ""


def _refused(error: DomainError) -> Response:
    return Response.refusal(error.text())


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
            return (Option(L("Add an item"), PlanAction(plan.id, ADD_ITEM).pack()), Option(L("Publish for public notice"), PlanAction(plan.id, PUBLISH).pack()))
        if plan.status is PlanStatus.notice_ended:
            return (Option(L("Adopt the plan"), AdoptPlan(plan.id).pack()),)
    if plan.status is PlanStatus.notice:
        return messages.feedback_options(plan)
    if plan.status is PlanStatus.adopted:
        muted = await plans.is_muted(turn.session, plan, turn.person.id)
        return (Option(L("Follow the works again"), PlanAction(plan.id, FOLLOW).pack()),) if muted else (Option(L("Mute the works news"), PlanAction(plan.id, MUTE).pack()),)
    return ()


async def plan_action(turn: Turn, payload: PlanAction) -> Response:
    try:
        if payload.action == ADD_ITEM:
            return Response.of(_class_question((await plans.draft_to_change(turn.session, turn.actor, payload.plan_id)).id))
        if payload.action == PUBLISH:
            return await _publish(turn, payload.plan_id)
        if payload.action in (MUTE, FOLLOW):
            await plans.set_muted(turn.session, turn.actor, payload.plan_id, payload.action == MUTE)
            return Response(notice=L("You will no longer get news of these works.") if payload.action == MUTE else L("You will get news of these works again."))
    except DomainError as error:
        return _refused(error)
    return Response.refusal(STALE)


async def _publish(turn: Turn, plan_id: int) -> Response:
    plan = await plans.get_plan(turn.session, plan_id)
    compound = await _compound_name(turn, plan)

    def message(published: Plan) -> Reply:
        return messages.published_message(published, compound, _day(published.notice_ends_at, turn.timezone))

    count = await plans.publish(turn.session, turn.actor, plan.id, _settings(turn).plan_notice_days, message)
    return Response.of(Reply(L("Published. {count} chats are told; the public notice runs until {day}.", count=count, day=_day(plan.notice_ends_at, turn.timezone)), replace=True))


# --- drafting -------------------------------------------------------------------------------


async def new_plan(turn: Turn, args: str = "") -> Response:
    compounds = await plans.managed_compounds(turn.session, turn.actor)
    if not compounds:
        return Response.of(Reply(L("Plans are drafted by community administrators.")))
    if len(compounds) == 1:
        return await _ask_title(turn, compounds[0])
    return Response.of(Reply(L("Which compound is the plan for?"), options=tuple(Option(c.name, NewPlanIn(c.id).pack()) for c in compounds)))


async def compound_chosen(turn: Turn, payload: NewPlanIn) -> Response:
    compound = next((c for c in await plans.managed_compounds(turn.session, turn.actor) if c.id == payload.compound_id), None)
    if compound is None:
        return Response.refusal(STALE)
    return await _ask_title(turn, compound)


async def _ask_title(turn: Turn, compound: Place) -> Response:
    await turn.set_step(PLAN_TITLE, compound_id=compound.id)
    return Response.of(Reply(L("A new plan for {compound}. What is its title? For example: 2027年老旧小区改造方案", compound=compound.name)))


async def title_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    try:
        plan = await plans.create_plan(turn.session, turn.actor, int(data["compound_id"]), text)
    except DomainError as error:
        await turn.clear()
        return Response.of(Reply(error.text()))
    await turn.clear()
    return Response.of(Reply(L("Saved as a draft. Now its first item.")), _class_question(plan.id))


def _class_question(plan_id: int) -> Reply:
    options = tuple(Option(L(messages.CLASS_NAMES[c]), ItemClassPick(plan_id, code).pack()) for code, c in CLASS_CODES.items())
    return Reply(L("Which class is the item?"), options=options)


async def class_chosen(turn: Turn, payload: ItemClassPick) -> Response:
    if payload.item_class not in CLASS_CODES:
        return Response.refusal(STALE)
    try:
        await plans.draft_to_change(turn.session, turn.actor, payload.plan_id)
    except DomainError as error:
        return _refused(error)
    await turn.set_step(ITEM_TITLE, plan_id=payload.plan_id, item_class=CLASS_CODES[payload.item_class].value)
    return Response.of(Reply(L("The item's title on the first line; a description may follow on the next lines."), replace=True))


async def item_title_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    title, _, description = text.strip().partition("\n")
    await turn.set_step(ITEM_CATEGORY, **data, title=title.strip(), description=description.strip())
    return Response.of(Reply(L("Its category, in a few words (供水, 电梯, 道路):")))


async def item_category_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.set_step(ITEM_FUNDING, **data, category=text.strip()[:50])
    return Response.of(Reply(L("Its funding in yuan, four amounts: government, utility companies, residents, others. For example: 300000 50000 120000 0")))


async def item_funding_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    amounts = AMOUNT_SEPARATORS.split(unicodedata.normalize("NFKC", text).strip())
    try:
        if len(amounts) != 4:
            raise DomainError(N_("Please give four amounts, separated by spaces: government, utility companies, residents, others."))
        funding = [str(cost_shares.money(a)) for a in amounts]
    except DomainError as error:
        return Response.of(Reply(error.text()))
    await turn.set_step(ITEM_BUILDINGS, **data, funding=funding)
    return Response.of(Reply(L("Which buildings does it concern? Their names separated by spaces (1栋 2栋), or 全部 for all.")))


async def item_buildings_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    try:
        plan = await plans.draft_to_change(turn.session, turn.actor, int(data["plan_id"]))
        ids = await plans.buildings_named(turn.session, plan.compound_id, text.replace("，", " ").replace("、", " ").split())
    except DomainError as error:
        return Response.of(Reply(error.text()))
    await turn.set_step(ITEM_DATES, **data, building_ids=ids)
    return Response.of(Reply(L("Planned dates, start and end, like 2027-03-01 2027-05-31; or 跳过 to skip.")))


def parse_dates(text: str) -> tuple[date | None, date | None] | None:
    if compact(text).lower() in SKIP_WORDS:
        return None, None
    found = DATE.findall(compact(text))
    try:
        days = [date(int(y), int(m), int(d)) for y, m, d in found]
    except ValueError:
        return None
    if len(days) != 2 or days[0] > days[1]:
        return None
    return days[0], days[1]


async def item_dates_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    dates = parse_dates(text)
    if dates is None:
        return Response.of(Reply(L("I could not read two dates there. Write them like 2027-03-01 2027-05-31, or 跳过.")))
    government, utility, residents, others = (cost_shares.money(a) for a in data["funding"])
    draft = plans.ItemDraft(
        ItemClass(data["item_class"]), str(data["title"]), str(data["category"]), str(data["description"]), government, utility, residents, others,
        tuple(int(b) for b in data["building_ids"]), *dates,
    )
    await turn.clear()
    try:
        item = await plans.add_item(turn.session, turn.actor, int(data["plan_id"]), draft)
    except DomainError as error:
        return Response.of(Reply(error.text()))
    options = (Option(L("Add an item"), PlanAction(item.plan_id, ADD_ITEM).pack()), Option(L("Publish for public notice"), PlanAction(item.plan_id, PUBLISH).pack()),
               Option(L("Show the plan"), CommandChoice("plans").pack()))
    return Response.of(Reply(Lines([L("Item {position} is added:", position=item.position), await messages.item_block(turn.session, item)]), options=options))


# --- objections and comments ----------------------------------------------------------------


async def feedback_chosen(turn: Turn, payload: FeedbackOn) -> Response:
    if payload.kind not in (messages.OBJECTION, messages.COMMENT):
        return Response.refusal(STALE)
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
        return _refused(error)
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
        return _refused(error)
    return Response.of(Reply(L("The plan is adopted; {count} chats are told. Post the works' progress with /works.", count=count), replace=True))


# --- works ----------------------------------------------------------------------------------


async def show_works(turn: Turn, args: str = "") -> Response:
    items = await plans.works_items(turn.session, turn.actor)
    if not items:
        return Response.of(Reply(L("No works to follow: adopted plans' items appear here.")))
    replies = []
    for item in items:
        plan = await plans.get_plan(turn.session, item.plan_id)
        options = [Option(L("Post progress"), ItemWorks(item.id, PROGRESS).pack()), Option(L("Works notice"), ItemWorks(item.id, WORKS_NOTICE).pack())]
        if item.funding_residents > 0 and await plans.may_manage(turn.session, turn.actor, plan):
            options.append(Option(L("Share the residents' part"), ItemWorks(item.id, SHARE_COSTS).pack()))
        replies.append(Reply(L("{plan}: {position}. {title} {bar}", plan=plan.title, position=item.position, title=item.title, bar=messages.progress_bar(item.progress)), options=tuple(options)))
    return Response(replies)


async def works_chosen(turn: Turn, payload: ItemWorks) -> Response:
    try:
        await plans.works_item(turn.session, turn.actor, payload.item_id)
    except DomainError as error:
        return _refused(error)
    if payload.action == PROGRESS:
        await turn.set_step(PROGRESS_TEXT, item_id=payload.item_id)
        return Response.of(Reply(L("Write the progress: a percentage, then a note, like: 60 管道已铺完. A photo with that as its caption works too. 100 means finished: residents will be asked to confirm.")))
    if payload.action == WORKS_NOTICE:
        await turn.set_step(WORKS_NOTICE_TEXT, item_id=payload.item_id)
        return Response.of(Reply(L("Write the works notice for the item's buildings, like: 明天9点到12点停水")))
    if payload.action == SHARE_COSTS:
        return await _share_costs(turn, payload.item_id)
    return Response.refusal(STALE)


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


async def _share_costs(turn: Turn, item_id: int) -> Response:
    try:
        result = await plan_costs.split_item(turn.session, turn.actor, item_id)
        item = await plans.get_item(turn.session, item_id)
    except DomainError as error:
        return _refused(error)
    await plan_costs.notify_households(turn.session, item, messages.shares_ready_message(item))
    lines: list[Text] = [L("{part} is shared among {count} households, at {price} yuan per weighted m². Each household is told its share.",
                           part=messages.yuan(result.residents_part), count=len(result.shares), price=str(result.price_per_m2))]
    if result.without_area:
        addresses = await places.household_addresses(turn.session, [int(k) for k in result.without_area])  # type: ignore[call-overload]
        rooms = "、".join(f"{a.building}{a.unit}{a.room}" for a in addresses.values())
        lines.append(L("No area is on record for {rooms}: they are left out. Add their areas and share again.", rooms=rooms))
    return Response.of(Reply(Lines(lines)))


# --- acceptance -----------------------------------------------------------------------------


async def acceptance_answered(turn: Turn, payload: AcceptanceDone) -> Response:
    if payload.answer not in (messages.YES, messages.NO):
        return Response.refusal(STALE)
    try:
        await plans.answer_acceptance(turn.session, turn.actor, payload.item_id, payload.answer == messages.YES)
    except DomainError as error:
        return _refused(error)
    if payload.answer == messages.NO:
        await turn.set_step(NOT_DONE_NOTE, item_id=payload.item_id)
        return Response.of(Reply(L("What is not done? Write it in a few words; it is passed on as a problem report."), replace=True))
    stars = tuple(Option("★" * n, AcceptanceRating(payload.item_id, n).pack()) for n in range(1, 6))
    return Response.of(Reply(L("Thank you. How do you rate the work?"), options=stars, columns=5, replace=True))


async def rating_chosen(turn: Turn, payload: AcceptanceRating) -> Response:
    try:
        await plans.add_acceptance_detail(turn.session, turn.actor, payload.item_id, rating=payload.stars)
    except DomainError as error:
        return _refused(error)
    return Response.of(Reply(L("Thank you for your rating."), replace=True))


async def not_done_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.clear()
    try:
        await plans.add_acceptance_detail(turn.session, turn.actor, int(data["item_id"]), note=text.strip())
    except DomainError as error:
        return Response.of(Reply(error.text()))
    return Response.of(Reply(L("Thank you. What you wrote is recorded with the item for the community office.")))


# --- shared costs ---------------------------------------------------------------------------


async def show_shares(turn: Turn, args: str = "") -> Response:
    replies: list[Reply] = []
    own = await plan_costs.shares_of(turn.session, turn.person.id)
    addresses = await places.household_addresses(turn.session, [s.household_id for s in own])
    for found in own:
        address = addresses.get(found.household_id)
        replies.append(messages.share_reply(found.share, found.item, f"{address.building}{address.unit}{address.room}" if address else ""))
    for item in await plan_costs.followed_items(turn.session, turn.actor):
        progress = await plan_costs.pledge_progress(turn.session, turn.actor, item.id)
        replies.append(Reply(L(
            "{title}: pledged {pledged} of {target}. {pledged_count} of {households} households pledged, {disputed} disputed.",
            title=item.title, pledged=messages.yuan(progress.pledged), target=messages.yuan(progress.target), pledged_count=progress.pledged_households,
            households=progress.households, disputed=progress.disputed_households)))
    if not replies:
        return Response.of(Reply(L("There are no shared costs for your household.")))
    return Response(replies)


async def share_answered(turn: Turn, payload: SharePledge) -> Response:
    if payload.answer == messages.DISPUTE:
        await turn.set_step(DISPUTE_NOTE, share_id=payload.share_id)
        return Response.of(Reply(L("Why do you disagree? Write it; the community office will see it.")))
    if payload.answer != messages.PLEDGE:
        return Response.refusal(STALE)
    try:
        share = await plan_costs.answer_share(turn.session, turn.actor, payload.share_id, ShareStatus.pledged)
    except DomainError as error:
        return _refused(error)
    return Response.of(Reply(L("Thank you: your household pledged {amount}.", amount=messages.yuan(share.amount)), replace=True))


async def dispute_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.clear()
    try:
        await plan_costs.answer_share(turn.session, turn.actor, int(data["share_id"]), ShareStatus.disputed, text.strip())
    except DomainError as error:
        return Response.of(Reply(error.text()))
    return Response.of(Reply(L("Recorded: you dispute the share. The community office will contact you.")))


async def show_coefficients(turn: Turn, args: str = "") -> Response:
    compounds = await plans.managed_compounds(turn.session, turn.actor)
    if not compounds:
        return Response.of(Reply(L("Floor coefficients are set by community administrators.")))
    buildings = await plans.buildings_of(turn.session, [c.id for c in compounds])
    options = tuple(Option(f"{compound} {name}", CoefficientsFor(building_id).pack()) for building_id, compound, name in buildings)
    return Response.of(Reply(L("Which building's floor coefficients?"), options=options, columns=2))


async def coefficients_chosen(turn: Turn, payload: CoefficientsFor) -> Response:
    try:
        await plan_costs.building_to_set(turn.session, turn.actor, payload.building_id)
    except DomainError as error:
        return _refused(error)
    current = await plan_costs.coefficients_of(turn.session, payload.building_id)
    await turn.set_step(COEFFICIENTS_TEXT, building_id=payload.building_id)
    return Response.of(Reply(L("Now: {table}\nWrite the new ones as floor:coefficient, like 1:0,2:0,3:0.7,4:0.8", table=cost_shares.format_coefficients(current))))


async def coefficients_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    try:
        table = cost_shares.parse_coefficients(text)
        await plan_costs.set_coefficients(turn.session, turn.actor, int(data["building_id"]), table)
    except DomainError as error:
        return Response.of(Reply(error.text()))
    await turn.clear()
    return Response.of(Reply(L("Saved: {table}. Shares computed from now on use them.", table=cost_shares.format_coefficients(table))))


MANAGERS = frozenset({Role.admin})
FEATURE = Feature(
    "plans",
    commands=(
        Command("plans", ("方案", "改造方案"), N_("The renovation plan: read it, object, follow the works"), show_plans, Where.private),
        # Not in the menus, which WeChat limits to seven: a share's message offers it, and /help lists it.
        Command("shares", ("分摊", "我的分摊"), N_("Your household's share of costs, and pledges"), show_shares, Where.private, in_menu=False),
        Command("newplan", ("新方案",), N_("Draft a renovation plan"), new_plan, Where.private, MANAGERS, in_menu=False),
        Command("works", ("施工",), N_("Post works progress and works notices"), show_works, Where.private, frozenset({Role.admin, Role.grid_worker}), in_menu=False),
        Command("coefficients", ("楼层系数",), N_("A building's floor coefficients for shared costs"), show_coefficients, Where.private, MANAGERS, in_menu=False),
    ),
    payloads={
        NewPlanIn: compound_chosen, ItemClassPick: class_chosen, PlanAction: plan_action, FeedbackOn: feedback_chosen, AnswerFeedback: answer_chosen,
        AdoptPlan: adopt_chosen, ItemWorks: works_chosen, AcceptanceDone: acceptance_answered, AcceptanceRating: rating_chosen,
        SharePledge: share_answered, CoefficientsFor: coefficients_chosen,
    },
    steps={
        PLAN_TITLE: title_typed, ITEM_TITLE: item_title_typed, ITEM_CATEGORY: item_category_typed, ITEM_FUNDING: item_funding_typed,
        ITEM_BUILDINGS: item_buildings_typed, ITEM_DATES: item_dates_typed, FEEDBACK_TEXT: feedback_typed, ANSWER_TEXT: answer_typed,
        PROGRESS_TEXT: progress_typed, WORKS_NOTICE_TEXT: works_notice_typed, NOT_DONE_NOTE: not_done_typed, DISPUTE_NOTE: dispute_typed,
        COEFFICIENTS_TEXT: coefficients_typed,
    },
    photo_steps={PROGRESS_TEXT: progress_photo},
)
