"""Shared costs in the chat: an administrator shares an item's residents' part (from /works),
sets a building's floor coefficients (/coefficients, 楼层系数); a household sees its share and
how it was computed, and pledges or disputes it (/shares, 分摊), where building leaders and
administrators also follow pledges against the target."""

from __future__ import annotations

from bot.conversations import plan_messages as messages
from bot.conversations.payloads import CoefficientsFor, SharePledge
from bot.conversations.plan_messages import refused
from bot.conversations.turn import Turn
from bot.replies import L, Lines, Option, Reply, Response, Text
from bot.services import cost_shares, places, plan_costs, plans
from bot.services.errors import DomainError
from storage.models import ShareStatus

DISPUTE_NOTE = "plans.dispute"  # data: share_id
COEFFICIENTS_TEXT = "plans.coefficients"  # data: building_id


async def share_costs(turn: Turn, item_id: int) -> Response:
    try:
        result = await plan_costs.split_item(turn.session, turn.actor, item_id)
        item = await plans.get_item(turn.session, item_id)
    except DomainError as error:
        return refused(error)
    await plan_costs.notify_households(turn.session, item, messages.shares_ready_message(item))
    lines: list[Text] = [L("{part} is shared among {count} households, at {price} yuan per weighted m². Each household is told its share.",
                           part=messages.yuan(result.residents_part), count=len(result.shares), price=str(result.price_per_m2))]
    if result.without_area:
        addresses = await places.household_addresses(turn.session, [int(k) for k in result.without_area])  # type: ignore[call-overload]
        rooms = "、".join(f"{a.building}{a.unit}{a.room}" for a in addresses.values())
        lines.append(L("No area is on record for {rooms}: they are left out. Add their areas and share again.", rooms=rooms))
    return Response.of(Reply(Lines(lines)))


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
        return Response.refusal(messages.STALE)
    try:
        share = await plan_costs.answer_share(turn.session, turn.actor, payload.share_id, ShareStatus.pledged)
    except DomainError as error:
        return refused(error)
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
        return refused(error)
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
