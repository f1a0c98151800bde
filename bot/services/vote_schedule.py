"""The votes' due work, as sweeps (bot/scheduling.py): announce a vote when it opens, remind the
households that have not voted (3 days and 1 day before the close), and publish the result at
the close with a chart. Each marks what it did (votes.opened_at, vote_reminders,
votes.closed_at) in the transaction that queues its messages, so a restart loses or repeats
nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import charts
from bot.config import Settings
from bot.conversations.payloads import CommandChoice
from bot.delivery import outbox
from bot.i18n import N_, translate
from bot.replies import Attachment, L, Lines, Option, Reply, Text, render_text
from bot.services import places, votes
from bot.services.vote_counting import percent
from storage.models import Ballot, GroupChat, Household, Membership, Place, Vote, VoteKind, VoteReminder

REMINDER_DAYS = (3, 1)  # before the close
VOTE_NOW = Option(L("Vote now"), CommandChoice("vote").pack())


async def _audience(session: AsyncSession, place: Place) -> list[outbox.Recipient]:
    """Every member of a household within the place, and the group chats of its buildings."""
    members = select(Membership.person_id).join(Household, Household.id == Membership.household_id).where(places.within(place)).distinct()
    groups = await session.scalars(select(GroupChat).join(Place, Place.id == GroupChat.place_id).where(or_(Place.id == place.id, places.within(place, Place))))
    return await outbox.recipients(session, members) + [outbox.Recipient(g.channel, g.chat_id) for g in groups]


async def _place_of(session: AsyncSession, vote: Vote) -> tuple[Place, str]:
    place = await session.get(Place, vote.place_id)
    assert place is not None
    return place, await places.place_name(session, place.id) or place.name


def _when(moment: datetime, settings: Settings) -> str:
    return votes.local_time(moment, settings.timezone)


async def announce_openings(session: AsyncSession, now: datetime, settings: Settings) -> int:
    due = list(await session.scalars(select(Vote).where(Vote.opened_at.is_(None), Vote.closed_at.is_(None), Vote.opens_at <= now, Vote.closes_at > now)))
    for vote in due:
        vote.opened_at = now
        place, name = await _place_of(session, vote)
        lines: list[Text] = [L("A vote is open for the households of {place}: {title}", place=name, title=vote.title)]
        if vote.explanation:
            lines.append(vote.explanation)
        lines.append(L("One vote per household, cast by a verified owner, until {when}.", when=_when(vote.closes_at, settings)))
        reply = Reply(Lines(lines), title=L("New vote"), options=(VOTE_NOW,))
        await outbox.enqueue(session, await _audience(session, place), reply, source=f"vote:{vote.id}:open")
    return len(due)


async def send_reminders(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """The nearest reminder due of each open vote, to the voters of households without a ballot;
    earlier ones missed (the bot was down) are marked, not sent late."""
    sent = 0
    for vote in await session.scalars(select(Vote).where(Vote.opened_at.is_not(None), Vote.closed_at.is_(None), Vote.closes_at > now)):
        done = set(await session.scalars(select(VoteReminder.days_before).where(VoteReminder.vote_id == vote.id)))
        due = [days for days in REMINDER_DAYS if days not in done and vote.opens_at < vote.closes_at - timedelta(days=days) <= now]
        if not due:
            continue
        session.add_all(VoteReminder(vote_id=vote.id, days_before=days, sent_at=now) for days in due)
        place, _ = await _place_of(session, vote)
        not_voted = votes.voters(vote, place).where(~exists().where(Ballot.vote_id == vote.id, Ballot.household_id == Membership.household_id))
        text = L("Your household has not voted yet: {title}. The vote closes {when}.", title=vote.title, when=_when(vote.closes_at, settings))
        await outbox.enqueue_to_people(session, not_voted, Reply(text, title=L("Reminder"), options=(VOTE_NOW,)), source=f"vote:{vote.id}:remind")
        sent += 1
    return sent


async def publish_results(session: AsyncSession, now: datetime, settings: Settings) -> int:
    due = list(await session.scalars(select(Vote).where(Vote.closed_at.is_(None), Vote.closes_at <= now)))
    for vote in due:
        vote.closed_at = now
        place, name = await _place_of(session, vote)
        result = await votes.result(session, vote)
        chart = await _chart(result, settings.default_locale)
        reply = Reply(result_text(result, name), title=L("Vote result"), attachment=Attachment("photo", content=chart, filename=f"vote-{vote.id}.png"))
        await outbox.enqueue(session, await _audience(session, place), reply, source=f"vote:{vote.id}:result")
    return len(due)


def _met(met: bool) -> Text:
    return L("met") if met else L("not met")


def result_text(result: votes.VoteResult, place: str) -> Text:
    """The result in plain words: turnout and consent against their thresholds, or the ranking."""
    vote, seen = result.vote, result.turnout
    lines: list[Text] = [L("Result of the vote for the households of {place}: {title}", place=place, title=vote.title)]
    lines.append(
        L("Took part: {voted} of {eligible} households ({households_share}), {area} of {area_total} m² ({area_share}).",
          voted=seen.voted.households, eligible=seen.eligible.households, households_share=percent(seen.voted.households, seen.eligible.households),
          area=seen.voted.area, area_total=seen.eligible.area, area_share=percent(seen.voted.area, seen.eligible.area))
    )
    if result.decision is None:
        lines.append(L("The items, most wanted first:"))
        lines += [L("{rank}. {item}: {households} households, {area} m²", rank=i, item=item.label, households=item.counts.households, area=item.counts.area)
                  for i, item in enumerate(result.ranked, start=1)]
        return Lines(lines)
    decision, rule = result.decision, result.decision.rule
    took_part = decision.tally.participating
    lines.append(L("Participation needed: {threshold} of households and of area: {met}.", threshold=rule.participation.shown(), met=_met(decision.participation_met)))
    for option, counts in result.options:
        lines.append(
            L("{option}: {households} households ({households_share} of those taking part), {area} m² ({area_share})",
              option=votes.option_text(option), households=counts.households, households_share=percent(counts.households, took_part.households),
              area=counts.area, area_share=percent(counts.area, took_part.area))
        )
    lines.append(L("Consent needed: {threshold} of the households and of the area taking part: {met}.", threshold=rule.consent.shown(), met=_met(decision.consent_met)))
    lines.append(L("Result: PASSED") if decision.passed else L("Result: NOT PASSED"))
    return Lines(lines)


async def _chart(result: votes.VoteResult, locale: str) -> bytes:
    """Shares of all eligible households and area, per option: drawn once, in the deployment's language."""
    seen = result.turnout
    label = lambda text: render_text(text, locale)  # noqa: E731 - a local shorthand
    categories = [label(votes.option_text(option)) for option, _ in result.options]
    by_households = [float(c.households / seen.eligible.households) if seen.eligible.households else 0.0 for _, c in result.options]
    by_area = [float(c.area / seen.eligible.area) if seen.eligible.area else 0.0 for _, c in result.options]
    if result.vote.kind is VoteKind.decision:
        not_voted = seen.eligible.households - seen.voted.households
        categories.append(translate(locale, N_("Not voted")))
        by_households.append(not_voted / seen.eligible.households if seen.eligible.households else 0.0)
        by_area.append(float((seen.eligible.area - seen.voted.area) / seen.eligible.area) if seen.eligible.area else 0.0)
    series = {translate(locale, N_("By households")): by_households, translate(locale, N_("By area")): by_area}
    return await charts.bar_chart(result.vote.title, categories, series, percent=True)


SWEEPS = (("vote_openings", announce_openings), ("vote_reminders", send_reminders), ("vote_results", publish_results))
