"""Votes in the chat: residents vote (/vote, 投票) with a tap and get a receipt; building
leaders record signed paper forms with a photo (/paper, 纸质投票) and see who has not voted
(/turnout, 投票进度); admins put a vote step by step (/newvote, 发起投票). Every press is
checked again by the service: a closed vote, another building's or a forged button changes
nothing and says why."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.conversations.feature import Command, Feature, Where
from bot.conversations.payloads import (
    NewVoteAction,
    NewVoteKind,
    NewVotePlace,
    PaperChoice,
    PaperHousehold,
    PaperReplace,
    PaperVote,
    VoteCast,
    VoteOpen,
    VoteSubmit,
    VoteToggle,
)
from bot.conversations.turn import Turn
from bot.conversations.when import parse_time
from bot.i18n import N_
from bot.replies import L, Lines, Option, Reply, Response, Text
from bot.services import access, places, votes
from bot.services.errors import DomainError
from storage.models import BallotChannel, Household, Role, Vote, VoteKind, utcnow

STALE = L("This button is no longer valid. Send /help to start again.")
CHOOSING = "votes.choosing"  # data: vote_id, household_id, chosen (option ids)
PAPER_ROOM = "votes.paper_room"  # data: vote_id
PAPER_CHOICE = "votes.paper_choice"  # data: vote_id, household_id, chosen
PAPER_PHOTO = "votes.paper_photo"  # data: vote_id, household_id, chosen
PAPER_REPLACE = "votes.paper_replace"  # data: as PAPER_PHOTO, and photo
NEW_TITLE = "votes.new_title"  # data: kind
NEW_ITEMS = "votes.new_items"  # data: kind, place_id, title, explanation
NEW_MAX = "votes.new_max"  # data: ..., items
NEW_CLOSE = "votes.new_close"  # data: ..., max_choices
NEW_CONFIRM = "votes.new_confirm"  # data: ..., closes_at
REPLACE, KEEP = 1, 2
CREATE, DISCARD = 1, 2
CONSULTATION = 1
NEW_KINDS = {CONSULTATION: (VoteKind.consultation, "civil-code-ordinary"), 2: (VoteKind.decision, "civil-code-major"), 3: (VoteKind.decision, "civil-code-ordinary")}
NOT_VOTED_SHOWN = 60  # rooms listed to a leader; the count says how many more
VOTERS = frozenset({Role.admin, Role.grid_worker, Role.building_leader})


def _error(error: DomainError) -> Response:
    return Response.refusal(error.text())


# --- residents ------------------------------------------------------------------------------


async def start(turn: Turn, args: str = "") -> Response:
    found = await votes.open_votes_of(turn.session, turn.person.id)
    if not found:
        return Response.of(Reply(L("There is no open vote for your household now. Votes are for verified owners: your household's paper code makes you one.")))
    if len(found) == 1:
        return await _ballot(turn, found[0].vote, found[0].household_id)
    options = tuple(Option(item.vote.title, VoteOpen(item.vote.id, item.household_id).pack()) for item in found)
    return Response.of(Reply(L("Open votes for your household:"), options=options))


async def opened(turn: Turn, payload: VoteOpen) -> Response:
    vote = await turn.session.get(Vote, payload.vote_id)
    if vote is None or not votes.is_open(vote, utcnow()):
        return Response.refusal(L(votes.CLOSED))
    mine = {(o.vote.id, o.household_id) for o in await votes.open_votes_of(turn.session, turn.person.id)}
    if (payload.vote_id, payload.household_id) not in mine:
        return Response.refusal(L(votes.NO_SUCH_VOTE))
    return await _ballot(turn, vote, payload.household_id)


async def _ballot(turn: Turn, vote: Vote, household_id: int, chosen: list[int] | None = None, *, replace: bool = False) -> Response:
    """The vote with its explanation, how far it has come, and its options as buttons."""
    options = await votes.options_of(turn.session, vote.id)
    channel, current = await votes.current_choices(turn.session, vote.id, household_id)
    lines: list[Text] = [L("Vote: {title}", title=vote.title)]
    if vote.explanation:
        lines.append(vote.explanation)
    lines.append(L("Open until {when}. One vote per household; you can change it until then.", when=votes.local_time(vote.closes_at, turn.timezone)))
    lines.append(await _progress(turn, vote))
    if current:
        picked = [votes.option_text(o) for o in options if o.id in current]
        lines.append(L("Your household's vote now: {choices}", choices=Lines(picked, "、")))
    if channel is BallotChannel.paper:
        lines.append(L(votes.PAPER_ALREADY))
        return Response.of(Reply(Lines(lines), replace=replace))
    if vote.max_choices > 1:
        chosen = chosen if chosen is not None else current
        await turn.set_step(CHOOSING, vote_id=vote.id, household_id=household_id, chosen=chosen)
        lines.append(L("Tap the items you want most (at most {count}), then send your choices.", count=vote.max_choices))
        buttons = [Option(_ticked(votes.option_text(o), o.id in chosen), VoteToggle(vote.id, household_id, o.id).pack()) for o in options]
        buttons.append(Option(L("Send my choices ({count})", count=len(chosen)), VoteSubmit(vote.id, household_id).pack()))
        return Response.of(Reply(Lines(lines), options=tuple(buttons), replace=replace))
    buttons = [Option(votes.option_text(o), VoteCast(vote.id, household_id, o.id).pack()) for o in options]
    return Response.of(Reply(Lines(lines), options=tuple(buttons), columns=3 if vote.kind is VoteKind.decision else 1, replace=replace))


def _ticked(label: Text, chosen: bool) -> Text:
    return Lines(["✅", label], " ") if chosen else label


async def _progress(turn: Turn, vote: Vote) -> Text:
    """Turnout, and the running count when the vote shows it before the close."""
    seen = await votes.turnout(turn.session, vote)
    text: Text = L("So far {voted} of {eligible} households have voted.", voted=seen.voted.households, eligible=seen.eligible.households)
    if not vote.live_results:
        return text
    result = await votes.result(turn.session, vote)
    counts = [L("{option}: {households}", option=votes.option_text(o), households=c.households) for o, c in result.options]
    return Lines([text, Lines(counts, "; ")])


async def cast_chosen(turn: Turn, payload: VoteCast) -> Response:
    return await _cast(turn, payload.vote_id, payload.household_id, [payload.option_id])


async def toggled(turn: Turn, payload: VoteToggle) -> Response:
    step, data = await turn.step()
    vote = await turn.session.get(Vote, payload.vote_id)
    if step != CHOOSING or data.get("vote_id") != payload.vote_id or data.get("household_id") != payload.household_id or vote is None:
        return Response.refusal(STALE)
    if not votes.is_open(vote, utcnow()):
        return Response.refusal(L(votes.CLOSED))
    chosen = list(data.get("chosen", []))
    chosen = [c for c in chosen if c != payload.option_id] if payload.option_id in chosen else chosen + [payload.option_id]
    if len(chosen) > vote.max_choices:
        return Response.refusal(L(votes.TOO_MANY, count=vote.max_choices))
    return await _ballot(turn, vote, payload.household_id, chosen, replace=True)


async def submitted(turn: Turn, payload: VoteSubmit) -> Response:
    step, data = await turn.step()
    if step != CHOOSING or data.get("vote_id") != payload.vote_id or data.get("household_id") != payload.household_id:
        return Response.refusal(STALE)
    return await _cast(turn, payload.vote_id, payload.household_id, list(data.get("chosen", [])))


async def _cast(turn: Turn, vote_id: int, household_id: int, option_ids: list[int]) -> Response:
    try:
        receipt = await votes.cast(turn.session, turn.person.id, vote_id, household_id, option_ids)
    except DomainError as error:
        return _error(error)
    if (await turn.step())[0] == CHOOSING:  # a consultation's ticks; a decision keeps no step
        await turn.clear()
    # A message of its own, not an edit of the ballot: the receipt stays, and so do the ballot's
    # buttons, for a change of mind before the close.
    return Response.of(Reply(_receipt(turn, receipt), title=L("Vote receipt")))


def _receipt(turn: Turn, receipt: votes.Receipt) -> Text:
    choices = Lines(receipt.choices, "、")
    lines: list[Text] = [
        L("Your household's vote changed to: {choices}", choices=choices) if receipt.changed else L("Your household's vote is recorded: {choices}", choices=choices),
        L("Vote: {title}", title=receipt.vote.title),
        L("Time: {when}", when=votes.local_time(receipt.cast_at, turn.timezone)),
        L("You can change it until {when} by voting again; the last vote counts.", when=votes.local_time(receipt.vote.closes_at, turn.timezone)),
    ]
    return Lines(lines)


# --- building leaders: paper votes and turnout -----------------------------------------------


async def paper(turn: Turn, args: str = "") -> Response:
    found = await votes.open_votes_for(turn.session, turn.actor, access.Permission.record_paper_vote)
    if not found:
        return Response.of(Reply(L("There is no open vote in the buildings you look after.")))
    options = tuple(Option(vote.title, PaperVote(vote.id).pack()) for vote in found)
    return Response.of(Reply(L("Record a signed paper form. Which vote?"), options=options))


async def paper_vote_chosen(turn: Turn, payload: PaperVote) -> Response:
    if payload.vote_id not in {v.id for v in await votes.open_votes_for(turn.session, turn.actor, access.Permission.record_paper_vote)}:
        return Response.refusal(L(votes.NO_SUCH_VOTE))
    await turn.set_step(PAPER_ROOM, vote_id=payload.vote_id)
    return Response.of(Reply(L("Type the room number of the household, for example 301, or with its unit: 1单元 301."), replace=True))


async def paper_room_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    vote = await turn.session.get(Vote, int(data["vote_id"]))
    if vote is None:
        await turn.clear()
        return Response.of(Reply(L(votes.NO_SUCH_VOTE)))
    found = await votes.paper_households(turn.session, turn.actor, vote, text.strip())
    if not found:
        return Response.of(Reply(L("No household {room} in the buildings you look after is in this vote. Type the room again.", room=text.strip())))
    if len(found) > 1:
        options = tuple(Option(f"{a.building} {a.unit} {a.room}", PaperHousehold(a.household_id).pack()) for a in found)
        return Response.of(Reply(L("Which household?"), options=options))
    return await _paper_options(turn, vote, found[0].household_id, [])


async def paper_household_chosen(turn: Turn, payload: PaperHousehold) -> Response:
    step, data = await turn.step()
    vote = await turn.session.get(Vote, int(data.get("vote_id", 0)))
    if step != PAPER_ROOM or vote is None:
        return Response.refusal(STALE)
    return await _paper_options(turn, vote, payload.household_id, [])


async def _paper_options(turn: Turn, vote: Vote, household_id: int, chosen: list[int]) -> Response:
    address = await places.household_address(turn.session, household_id)
    await turn.set_step(PAPER_CHOICE, vote_id=vote.id, household_id=household_id, chosen=chosen)
    options = await votes.options_of(turn.session, vote.id)
    buttons = [Option(_ticked(votes.option_text(o), o.id in chosen), PaperChoice(o.id).pack()) for o in options]
    where = f"{address.building} {address.unit} {address.room}" if address else ""
    text = L("{household}: what does the signed form say? (at most {count})", household=where, count=vote.max_choices)
    return Response.of(Reply(text, options=tuple(buttons), replace=bool(chosen)))


async def paper_choice_chosen(turn: Turn, payload: PaperChoice) -> Response:
    step, data = await turn.step()
    vote = await turn.session.get(Vote, int(data.get("vote_id", 0)))
    if step not in (PAPER_CHOICE, PAPER_PHOTO) or vote is None:
        return Response.refusal(STALE)
    if vote.max_choices == 1:
        await turn.set_step(PAPER_PHOTO, **{**data, "chosen": [payload.option_id]})
        return Response.of(Reply(L("Now send a photo of the signed form.")))
    chosen = list(data["chosen"])
    chosen = [c for c in chosen if c != payload.option_id] if payload.option_id in chosen else [*chosen, payload.option_id]
    if len(chosen) > vote.max_choices:
        return Response.refusal(L(votes.TOO_MANY, count=vote.max_choices))
    response = await _paper_options(turn, vote, int(data["household_id"]), chosen)
    response.replies.append(Reply(L("Tap every item the form marks, then send a photo of the signed form.")))
    return response


async def paper_photo_sent(turn: Turn, file_id: str, caption: str) -> Response:
    step, data = await turn.step()
    if step not in (PAPER_CHOICE, PAPER_PHOTO) or not data.get("chosen"):
        return Response.of(Reply(L("Choose what the form says first.")))
    return await _record_paper(turn, {**data, "photo": file_id}, replace=False)


async def paper_replace_chosen(turn: Turn, payload: PaperReplace) -> Response:
    step, data = await turn.step()
    if step != PAPER_REPLACE:
        return Response.refusal(STALE)
    if payload.answer != REPLACE:
        await turn.clear()
        return Response.of(Reply(L("Kept the online vote; the paper form was not recorded."), replace=True))
    return await _record_paper(turn, data, replace=True)


async def _record_paper(turn: Turn, data: dict[str, object], *, replace: bool) -> Response:
    vote_id, household_id = int(str(data["vote_id"])), int(str(data["household_id"]))
    chosen = [int(c) for c in data["chosen"]]  # type: ignore[attr-defined]
    try:
        receipt = await votes.record_paper(turn.session, turn.actor, vote_id, household_id, chosen, str(data["photo"]), replace=replace)
    except DomainError as error:
        household = await turn.session.get(Household, household_id)
        if error.message == votes.ONLINE_ALREADY and household and await access.is_allowed(turn.session, turn.actor, access.Permission.replace_ballot, household):
            await turn.set_step(PAPER_REPLACE, **data)
            options = (Option(L("Replace it with the paper vote"), PaperReplace(REPLACE).pack()), Option(L("Keep the online vote"), PaperReplace(KEEP).pack()))
            return Response.of(Reply(L("This household has voted online already. Replace that vote with the paper form? This is logged."), options=options))
        await turn.clear()
        return Response.of(Reply(error.text()))
    await turn.clear()
    choices = Lines(receipt.choices, "、")
    return Response.of(Reply(L("Paper vote recorded for {title}: {choices}. Send /paper for the next form.", title=receipt.vote.title, choices=choices)))


async def turnout(turn: Turn, args: str = "") -> Response:
    found = await votes.open_votes_for(turn.session, turn.actor, access.Permission.see_turnout)
    if not found:
        return Response.of(Reply(L("There is no open vote in the places you look after.")))
    replies = []
    for vote in found:
        seen = await votes.turnout(turn.session, vote)
        missing = await votes.households_not_voted(turn.session, turn.actor, vote, limit=NOT_VOTED_SHOWN + 1)
        rooms = " ".join(f"{a.building}{a.unit}{a.room}" for a in missing[:NOT_VOTED_SHOWN])
        lines: list[Text] = [
            L("Vote: {title}", title=vote.title),
            L("{voted} of {eligible} households have voted ({paper} on paper); it closes {when}.", voted=seen.voted.households,
              eligible=seen.eligible.households, paper=seen.paper, when=votes.local_time(vote.closes_at, turn.timezone)),
            L("Not voted yet in your buildings: {rooms}", rooms=rooms) if missing else L("Every household of your buildings has voted."),
        ]
        if len(missing) > NOT_VOTED_SHOWN:
            lines.append(L("…and more: see them all with `gongjian vote export`."))
        replies.append(Reply(Lines(lines)))
    return Response(replies)


# --- admins: a new vote, step by step ---------------------------------------------------------


async def new_vote(turn: Turn, args: str = "") -> Response:
    if not await votes.creatable_places(turn.session, turn.actor):
        return Response.of(Reply(L("Votes are put by community administrators.")))
    options = (
        Option(L("Consultation: residents pick the items they want most"), NewVoteKind(1).pack()),
        Option(L("Decision on a major matter (funds, rebuilding, use of common parts: 3/4 must agree)"), NewVoteKind(2).pack()),
        Option(L("Decision on another matter (more than half must agree)"), NewVoteKind(3).pack()),
    )
    return Response.of(Reply(L("What kind of vote?"), options=options))


async def new_kind_chosen(turn: Turn, payload: NewVoteKind) -> Response:
    if payload.kind not in NEW_KINDS:
        return Response.refusal(STALE)
    choices = await votes.creatable_places(turn.session, turn.actor)
    options = tuple([Option(await places.place_name(turn.session, p.id) or p.name, NewVotePlace(p.id).pack()) for p in choices])
    await turn.set_step(NEW_TITLE, kind=payload.kind)
    return Response.of(Reply(L("Who votes? The households of:"), options=options, replace=True))


async def new_place_chosen(turn: Turn, payload: NewVotePlace) -> Response:
    step, data = await turn.step()
    if step != NEW_TITLE or payload.place_id not in {p.id for p in await votes.creatable_places(turn.session, turn.actor)}:
        return Response.refusal(STALE)
    await turn.set_step(NEW_TITLE, **data, place_id=payload.place_id)
    return Response.of(Reply(L("Write the title on the first line and, below it, the explanation residents read."), replace=True))


async def new_title_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    if "place_id" not in data:
        return Response.of(Reply(L("Choose who votes first.")))
    title, _, explanation = text.strip().partition("\n")
    if not title.strip() or len(title) > votes.MAX_TITLE_LENGTH:
        return Response.of(Reply(L("A vote needs a title of at most {limit} characters.", limit=votes.MAX_TITLE_LENGTH)))
    data.update(title=title.strip(), explanation=explanation.strip())
    if NEW_KINDS[int(data["kind"])][0] is VoteKind.consultation:
        await turn.set_step(NEW_ITEMS, **data)
        return Response.of(Reply(L("Write the items to choose from, one per line (2 to {limit}).", limit=votes.MAX_OPTIONS)))
    await turn.set_step(NEW_CLOSE, **data, items=[], max_choices=1)
    return Response.of(Reply(L("When does the vote close? For example: 12-15 18:00. It opens now.")))


async def consultation_on(turn: Turn, place_id: int, title: str, explanation: str, items: list[str]) -> Response:
    """/newvote with its items already chosen (a plan's): on to how many a household may choose."""
    await turn.set_step(NEW_MAX, kind=CONSULTATION, place_id=place_id, title=title, explanation=explanation, items=items)
    return Response.of(
        Reply(Lines([*(f"{i}. {item}" for i, item in enumerate(items, start=1)), "", L("How many items may a household choose? A number from 1 to {count}.", count=len(items))]))
    )


async def new_items_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    items = [line.strip() for line in text.splitlines() if line.strip()]
    if not 2 <= len(items) <= votes.MAX_OPTIONS or len(set(items)) != len(items):
        return Response.of(Reply(L("A consultation needs 2 to {limit} different items.", limit=votes.MAX_OPTIONS)))
    await turn.set_step(NEW_MAX, **data, items=items)
    return Response.of(Reply(L("How many items may a household choose? A number from 1 to {count}.", count=len(items))))


async def new_max_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    count = len(data["items"])
    number = text.strip()
    if not number.isdecimal() or not 1 <= int(number) <= count:
        return Response.of(Reply(L("A number from 1 to {count}, please.", count=count)))
    await turn.set_step(NEW_CLOSE, **data, max_choices=int(number))
    return Response.of(Reply(L("When does the vote close? For example: 12-15 18:00. It opens now.")))


async def new_close_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    closes_at = parse_time(text, utcnow(), turn.timezone)
    if closes_at is None or closes_at < utcnow() + timedelta(hours=1):
        return Response.of(Reply(L("I could not read {text} as a time at least an hour from now. Try again, for example: 12-15 18:00.", text=text)))
    await turn.set_step(NEW_CONFIRM, **data, closes_at=closes_at.isoformat())
    kind, rule = NEW_KINDS[int(data["kind"])]
    place = await places.place_name(turn.session, int(data["place_id"]))
    lines: list[Text] = [
        L("Preview of the vote ({kind}) for the households of {place}, closing {when}:", kind=L(votes.kind_term(kind)), place=place or "", when=votes.local_time(closes_at, turn.timezone)),
        str(data["title"]),
    ]
    if data["explanation"]:
        lines.append(str(data["explanation"]))
    if data["items"]:
        lines += [f"{i}. {item}" for i, item in enumerate(data["items"], start=1)]
        lines.append(L("Each household chooses up to {count}.", count=data["max_choices"]))
    else:
        rule_text = votes.rule_named(rule)
        lines.append(L("Counted under the Civil Code: at least 2/3 of households and of area take part; {consent} of those taking part must agree.", consent=str(rule_text.consent)))
    options = (Option(L("Open the vote"), NewVoteAction(CREATE).pack()), Option(L("Discard"), NewVoteAction(DISCARD).pack()))
    return Response.of(Reply(Lines(lines), options=options))


async def new_action_chosen(turn: Turn, payload: NewVoteAction) -> Response:
    step, data = await turn.step()
    if step != NEW_CONFIRM:
        return Response.refusal(STALE)
    await turn.clear()
    if payload.action != CREATE:
        return Response.of(Reply(L("Discarded; no vote was opened."), replace=True))
    kind, rule = NEW_KINDS[int(data["kind"])]
    spec = votes.VoteSpec(
        kind, str(data["title"]), int(data["place_id"]), utcnow(), datetime.fromisoformat(str(data["closes_at"])), explanation=str(data["explanation"]),
        items=tuple(data["items"]), max_choices=int(data["max_choices"]), rule=rule,
    )
    try:
        vote = await votes.create(turn.session, turn.actor, spec)
    except DomainError as error:
        return Response.of(Reply(error.text()))
    return Response.of(Reply(L("The vote is open (number {id}). Residents are told in a moment; follow it with /turnout.", id=vote.id), replace=True))


FEATURE = Feature(
    "votes",
    commands=(
        Command("vote", ("投票",), N_("Vote on your compound's renovation"), start, Where.private),
        Command("paper", ("纸质投票",), N_("Record a signed paper vote"), paper, Where.private, frozenset({Role.admin, Role.building_leader}), in_menu=False),
        Command("turnout", ("投票进度",), N_("Votes: who has not voted yet"), turnout, Where.private, VOTERS, in_menu=False),
        Command("newvote", ("发起投票",), N_("Put a vote to residents"), new_vote, Where.private, frozenset({Role.admin}), in_menu=False),
    ),
    payloads={
        VoteOpen: opened, VoteCast: cast_chosen, VoteToggle: toggled, VoteSubmit: submitted,
        PaperVote: paper_vote_chosen, PaperHousehold: paper_household_chosen, PaperChoice: paper_choice_chosen, PaperReplace: paper_replace_chosen,
        NewVoteKind: new_kind_chosen, NewVotePlace: new_place_chosen, NewVoteAction: new_action_chosen,
    },
    steps={PAPER_ROOM: paper_room_typed, NEW_TITLE: new_title_typed, NEW_ITEMS: new_items_typed, NEW_MAX: new_max_typed, NEW_CLOSE: new_close_typed},
    photo_steps={PAPER_CHOICE: paper_photo_sent, PAPER_PHOTO: paper_photo_sent},
)
