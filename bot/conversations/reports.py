"""Problem reports, the resident's side: /report (报告, 报修, 反映), or a complaint written
straight out, which the bot offers to turn into a report; photos (an album is one report) and a
location may come at any point before the category is confirmed. The building comes from the
resident's household (asked when there are several). The router proposes a category and two
alternatives, plus "other": one tap confirms. A similar open report nearby is offered as
"same problem (+1)". /myreports (我的报告) lists the resident's reports with their history;
the follow-up (回访) asks "solved?" and a rating.

Everything the resident has told is in the conversation's data (bot/conversations/turn.py)
from the moment it arrives, so a restart, or a failure while saving, never loses their words:
/report picks the draft up again."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.categories import OTHER, Category
from bot.conversations.feature import NOT_UNDERSTOOD, STALE_CHOICE, Command, Feature, Where
from bot.conversations.payloads import FollowUp, MyReport, MyReportsPage, ReportBuilding, ReportCategory, ReportNew, ReportOffer, ReportRating, ReportSame
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Lines, Option, Reply, Response, Text
from bot.services import corrections, reports
from bot.services.errors import DomainError
from bot.services.text import folded
from storage.models import Report, ReportAction, ReportStatus

T = TypeVar("T")
DESCRIBING = "reports.describe"  # data: a reports.Draft
CHOOSING_BUILDING = "reports.building"  # data: the draft
CHOOSING_CATEGORY = "reports.category"  # data: the draft, routed (the first proposal), offered (the codes proposed)
DUPLICATE = "reports.duplicate"  # data: the draft, routed, category, similar (report ids)
OFFERED = "reports.offered"  # data: the draft (the text written outside any flow)
REOPENING = "reports.reopen"  # data: report_id
DRAFT_STEPS = (DESCRIBING, CHOOSING_BUILDING, CHOOSING_CATEGORY, DUPLICATE, OFFERED)
YES, NO = 1, 2
# How people answer "shall I make it a report?" in a chat, in the languages the bot speaks.
YES_WORDS = frozenset({"好", "好的", "是", "是的", "要", "可以", "行", "嗯", "对", "yes", "y", "ok", "okay", "sure"})
NO_WORDS = frozenset({"不", "不用", "不用了", "不要", "算了", "no", "n", "no thanks"})
LISTED = 10  # reports in a page of a list (/myreports, /tickets)
MAX_PAGE = 9_999  # so that a typed or forged page number makes a sane offset
TOO_LONG = L("Your text is long: the first {limit} characters are kept in the report.", limit=reports.MAX_TEXT_LENGTH)
NEEDS_BUILDING = L("A report needs your building: first join your household with the code from your stairwell (/start), then send /report again.")
# Free text shorter than this is a greeting or a slip, not a complaint.
MIN_COMPLAINT_LENGTH = 4
# A trained model's first proposal at least this sure (and not "other") reads as a complaint.
COMPLAINT_SCORE = 0.5


def categories(turn: Turn) -> dict[str, Category]:
    return turn.routing.categories if turn.routing is not None else {}


def category_name(turn: Turn, code: str) -> str:
    category = categories(turn).get(code)
    return category.name(turn.locale) if category else code


# --- writing a report -----------------------------------------------------------------------


async def start(turn: Turn, args: str = "") -> Response:
    step, data = await turn.step()
    if args.strip():
        return await _described(turn, reports.Draft(text=args.strip()))
    if step in DRAFT_STEPS and data.get("text"):
        draft = reports.Draft.from_data(data)
        return await _described(turn, draft, resumed=True)
    if step != DESCRIBING:  # else photos or a location sent before any words stay with the draft
        if not await reports.buildings_of(turn.session, turn.person.id):  # said before they write, not after
            return Response.of(Reply(NEEDS_BUILDING))
        await turn.set_step(DESCRIBING, **reports.Draft().to_data())
    return Response.of(Reply(L("What is the problem? Write it in a few words. You may also send photos and your location.")))


async def text_written(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    draft = reports.Draft.from_data(data)
    draft.text = text[: reports.MAX_TEXT_LENGTH]
    response = await _described(turn, draft)
    if len(text) > reports.MAX_TEXT_LENGTH:  # said, not cut silently
        response.replies.insert(0, Reply(TOO_LONG))
    return response


async def _described(turn: Turn, draft: reports.Draft, *, resumed: bool = False) -> Response:
    """The words are in: find the building, then propose the category. The draft is kept
    whatever the answer (written once, with the update's commit)."""
    if not any(character.isalnum() for character in draft.text):
        # Only punctuation or emoji ("。。。", "😭"): nothing a grid worker could act on.
        draft.text = ""
        await turn.set_step(DESCRIBING, **draft.to_data())
        return Response.of(Reply(L("Please tell me in words what the problem is, for example: the lift in building 3 is broken.")))
    if turn.routing is None:
        await turn.set_step(DESCRIBING, **draft.to_data())
        return Response.of(Reply(L("Reports cannot be taken right now. Your words are kept: please try /report again later.")))
    buildings = await reports.buildings_of(turn.session, turn.person.id)
    await turn.set_step(DESCRIBING, **draft.to_data())
    if draft.building_id not in {b.building_id for b in buildings}:
        draft.building_id = None
    if draft.building_id is None and len(buildings) == 1:
        draft.building_id = buildings[0].building_id
    if draft.building_id is None and not buildings:
        return Response.of(Reply(NEEDS_BUILDING))
    if draft.building_id is None:
        await turn.set_step(CHOOSING_BUILDING, **draft.to_data())
        options = tuple(Option(b.name, ReportBuilding(b.building_id).pack()) for b in buildings)
        return Response.of(Reply(L("Which building is it about?"), options=options))
    return await _propose(turn, draft, resumed=resumed)


async def building_chosen(turn: Turn, payload: ReportBuilding) -> Response:
    step, data = await turn.step()
    if step != CHOOSING_BUILDING:
        return Response.refusal(STALE_CHOICE)
    draft = reports.Draft.from_data(data)
    draft.building_id = payload.building_id  # checked in _described against the person's households
    return await _described(turn, draft)


async def _propose(turn: Turn, draft: reports.Draft, *, resumed: bool = False) -> Response:
    assert turn.routing is not None
    predictions = turn.routing.classify(draft.text, k=3)
    known = categories(turn)
    codes = list(dict.fromkeys([p.category for p in predictions if p.category in known] + [OTHER]))[:4]
    routed = codes[0]
    await turn.set_step(CHOOSING_CATEGORY, **draft.to_data(), routed=routed, offered=codes)
    options = tuple(Option(category_name(turn, code), ReportCategory(code).pack()) for code in codes)
    lines: list[Text] = []
    if resumed:
        lines += [L("Your report so far: {text}", text=draft.text), ""]
    if turn.routing.is_confident(predictions) and routed != OTHER:
        lines.append(L("This sounds like: {category}. Tap it to confirm, or choose another kind.", category=category_name(turn, routed)))
    else:
        lines.append(L("What kind of problem is it? Please choose."))
    return Response.of(Reply(Lines(lines), options=options))


async def category_typed(turn: Turn, text: str) -> Response:
    """Words while the categories are offered, not an option's name: more about the problem
    ("还有三楼的也坏了"), added to the description; then the menu again. A number is a slip."""
    options = await turn.offered_options()
    if text.isdecimal():
        return Response.of(Reply(L("Please choose one of these:"), options=options))
    _, data = await turn.step()
    longer = _with_words(str(data.get("text") or ""), text)
    if len(longer) > reports.MAX_TEXT_LENGTH:
        return Response.of(Reply(TOO_LONG, options=options))
    await turn.update_data(text=longer)
    return Response.of(Reply(L("Added to your report. Now please choose the kind of problem:"), options=options))


def _with_words(text: str, words: str) -> str:
    """More words for a description, on a line of their own."""
    return "\n".join(filter(None, (text, words)))


async def category_chosen(turn: Turn, payload: ReportCategory) -> Response:
    step, data = await turn.step()
    # Only a category offered for this draft: a button left on an earlier proposal would file
    # this report under another report's category (and teach the router that mistake).
    if step != CHOOSING_CATEGORY or payload.code not in data.get("offered", ()):
        return Response.refusal(STALE_CHOICE)
    category = categories(turn).get(payload.code)
    if category is None:
        return Response.refusal(L(reports.UNKNOWN_CATEGORY))
    draft = reports.Draft.from_data(data)
    routed = str(data.get("routed") or "")
    if category.code != routed:  # the resident knows better: the router learns from it
        await corrections.record_correction(turn.session, categories(turn), draft.text, category.code, previous_category=routed or None, person_id=turn.person.id)
    assert turn.routing is not None and draft.building_id is not None
    similar = await reports.similar_open_reports(turn.session, turn.routing.tokenizer, draft.building_id, category.code, draft.text)
    similar = [report for report in similar if report.reporter_id != turn.person.id]
    if not similar:
        return await _submit(turn, draft, category, routed)
    await turn.set_step(DUPLICATE, **draft.to_data(), routed=routed, category=category.code, similar=[r.id for r in similar])
    replies = [Reply(L("A neighbour has already reported something similar:"))]
    replies += [
        Reply(
            _report_line(turn, report),
            options=(Option(L("Same problem (+1)"), ReportSame(report.id).pack()),),
        )
        for report in similar
    ]
    replies.append(Reply(L("If yours is a different problem:"), options=(Option(L("New report"), ReportNew().pack()),)))
    return Response(replies)


def _report_line(turn: Turn, report: Report) -> Text:
    return L(
        "#{id} {category} · {status}: {text}", id=report.id, category=category_name(turn, report.category),
        status=reports.status_name(report.status), text=reports.summary(report),
    )


async def same_chosen(turn: Turn, payload: ReportSame) -> Response:
    step, data = await turn.step()
    if step != DUPLICATE or payload.report_id not in data.get("similar", []):
        return Response.refusal(STALE_CHOICE)
    try:
        report = await reports.act(turn.session, turn.person.id, payload.report_id, ReportAction.supported, timezone=turn.timezone)
    except DomainError as error:
        return Response.refusal(error.text())
    await turn.clear()
    return Response.of(
        Reply(L("Thank you: your voice is added to report #{id} ({count} so far). You will be told of every change.", id=report.id, count=report.priority + 1))
    )


async def new_chosen(turn: Turn, payload: ReportNew) -> Response:
    step, data = await turn.step()
    if step != DUPLICATE:
        return Response.refusal(STALE_CHOICE)
    category = categories(turn).get(str(data.get("category")))
    if category is None:
        return Response.refusal(STALE_CHOICE)
    return await _submit(turn, reports.Draft.from_data(data), category, str(data.get("routed") or ""))


async def _submit(turn: Turn, draft: reports.Draft, category: Category, routed: str) -> Response:
    try:
        submitted = await reports.submit(turn.session, turn.actor, draft, category, routed_category=routed or None, timezone=turn.timezone)
    except DomainError as error:
        return Response.of(Reply(error.text()))  # the draft stays: nothing the resident wrote is lost
    await turn.clear()
    report = submitted.report
    lines: list[Text] = [L("Report #{id} is saved (受理): {category}.", id=report.id, category=category.name(turn.locale))]
    if submitted.handler_name:
        lines.append(L("It went to grid worker {name} (派单).", name=submitted.handler_name))
    lines += [
        L("To be handled by {deadline}.", deadline=reports.local_time(report.deadline, turn.timezone)),
        L("You will be told of every change. See /myreports."),
    ]
    return Response.of(Reply(Lines(lines), title=L("Thank you")))


# --- photos, a location, free text ------------------------------------------------------------


async def photo_sent(turn: Turn, file_id: str, caption: str) -> Response:
    step, data = await turn.step()
    draft = reports.Draft.from_data(data)
    same_album = turn.album is not None and data.get("album") == turn.album
    added = draft.add_photo(reports.Photo(turn.channel.name, file_id))
    await turn.update_data(photos=draft.photos, album=turn.album)
    if (step == DESCRIBING and caption and not draft.text) or (step == OFFERED and not same_album):
        # The words come with the photo; or a photo in answer to "shall I make it a report?": yes.
        draft.text = _with_words(draft.text, caption)[: reports.MAX_TEXT_LENGTH]
        response = await _described(turn, draft)
        await turn.update_data(album=turn.album)  # the rest of the album joins this report quietly
        return response
    if same_album:
        return Response()  # the rest of an album: one report, one answer
    if not added:
        return Response.of(Reply(L("That is enough photos for one report ({limit}).", limit=reports.MAX_PHOTOS)))
    if step == DESCRIBING and not draft.text:
        return Response.of(Reply(L("Photo received. Now write in a few words what the problem is.")))
    return Response.of(Reply(L("Photo added to your report.")))


async def location_sent(turn: Turn, latitude: float, longitude: float, label: str) -> Response:
    step, data = await turn.step()
    place = {"latitude": f"{latitude:.6f}", "longitude": f"{longitude:.6f}", "location_label": label[:200]}
    if step == OFFERED:  # a location in answer to "shall I make it a report?": yes, and this is where
        return await _described(turn, reports.Draft.from_data({**data, **place}))
    await turn.update_data(**place)
    if step == DESCRIBING:
        return Response.of(Reply(L("Location added. Now write in a few words what the problem is.")))
    return Response.of(Reply(L("Location added to your report.")))


def reads_like_complaint(turn: Turn, text: str) -> bool:
    """Configured keywords of a category, or the trained model sure of one that is not "other"."""
    routing = turn.routing
    if routing is None or len(text.strip()) < MIN_COMPLAINT_LENGTH:
        return False
    if routing.keywords.hits(text):
        return True
    top = routing.classify(text, k=1)[0]
    return routing.ready and top.category != OTHER and top.score >= COMPLAINT_SCORE


async def free_text(turn: Turn, text: str) -> Response | None:
    if not reads_like_complaint(turn, text):
        return None
    await turn.set_step(OFFERED, **reports.Draft(text=text[: reports.MAX_TEXT_LENGTH]).to_data())
    options = (Option(L("Yes, report it"), ReportOffer(YES).pack()), Option(L("No, thank you"), ReportOffer(NO).pack()))
    return Response.of(Reply(L("This sounds like a problem in your compound. Shall I make it a report for your grid worker?"), options=options))


async def offer_typed(turn: Turn, text: str) -> Response:
    """Words in answer to the offer: yes or no as people write them (好的, 不用); anything else
    is read as it would be without the offer (another complaint is offered in its place)."""
    word = folded(text).strip(" 。.!！~～").casefold()
    if word in YES_WORDS or word in NO_WORDS:
        return await offer_answered(turn, ReportOffer(YES if word in YES_WORDS else NO))
    return await free_text(turn, text) or Response.of(Reply(NOT_UNDERSTOOD))


async def offer_answered(turn: Turn, payload: ReportOffer) -> Response:
    step, data = await turn.step()
    if step != OFFERED:
        return Response.refusal(STALE_CHOICE)
    if payload.answer == YES:
        return await _described(turn, reports.Draft.from_data(data))
    await turn.clear()
    return Response.of(Reply(L("All right, nothing was reported. Send /report whenever you want to.")))


# --- following one's reports ----------------------------------------------------------------


async def listing(turn: Turn, args: str = "") -> Response:
    """/myreports: the newest LISTED; "/myreports 2" (我的报告 2) the ones before them."""
    return await _page(turn, int(args) if args.isdecimal() and 0 < int(args) <= MAX_PAGE else 1)


async def older(turn: Turn, payload: MyReportsPage) -> Response:
    return await _page(turn, min(payload.page, MAX_PAGE))  # at least 1: a payload's numbers are positive


async def one_page(fetch: Callable[..., Awaitable[list[T]]], page: int) -> tuple[list[T], bool]:
    """Page `page` of a list, LISTED at a time, from `fetch(limit=, offset=)`; and whether more follow."""
    found = await fetch(limit=LISTED + 1, offset=(page - 1) * LISTED)
    return found[:LISTED], len(found) > LISTED


async def _page(turn: Turn, page: int) -> Response:
    mine, more = await one_page(functools.partial(reports.reports_of, turn.session, turn.person.id), page)
    if not mine and page == 1:
        return Response.of(Reply(L("You have no reports yet. Send /report to report a problem.")))
    if not mine:
        return Response.of(Reply(L("There are no older reports.")))
    lines = [_report_line(turn, report) for report in mine]
    options = [Option(L("#{id} details", id=report.id), MyReport(report.id).pack()) for report in mine]
    if more:
        options.append(Option(L("Older reports"), MyReportsPage(page + 1).pack()))
    return Response.of(Reply(Lines(lines), title=L("Your reports"), options=tuple(options), columns=3))


def history_lines(turn: Turn, events: list[Any]) -> list[Text]:
    lines: list[Text] = []
    for event in events:
        when = reports.local_time(event.created_at, turn.timezone)
        line: Text = L("{when} {action}", when=when, action=reports.action_name(event.action))
        if event.note:
            line = L("{when} {action}: {note}", when=when, action=reports.action_name(event.action), note=event.note)
        lines.append(line)
    return lines


async def details(turn: Turn, payload: MyReport) -> Response:
    try:
        report = await reports.followed_report(turn.session, turn.person.id, payload.report_id)
    except DomainError as error:
        return Response.refusal(error.text())
    lines: list[Text] = [_report_line(turn, report), ""]
    lines += history_lines(turn, await reports.history(turn.session, report.id))
    options: tuple[Option, ...] = ()
    if report.reporter_id == turn.person.id and report.status is ReportStatus.resolved:
        options = reports.follow_up_question(report).options
    elif report.reporter_id == turn.person.id and report.status is ReportStatus.closed:
        options = (Option(L("Not solved after all: reopen"), FollowUp(report.id, FollowUp.NOT_YET).pack()),)
        if report.rating is None:
            options = _rating_options(report.id) + options
    return Response.of(Reply(Lines(lines), title=L("Report #{id}", id=report.id), options=options))


def _rating_options(report_id: int) -> tuple[Option, ...]:
    """1 to 5 stars, each with its number: on WeChat "5" is then five stars, not the fifth line."""
    return tuple(Option(f"{stars} " + "⭐" * stars, ReportRating(report_id, stars).pack()) for stars in range(1, 6))


async def follow_up_answered(turn: Turn, payload: FollowUp) -> Response:
    action = {FollowUp.SOLVED: ReportAction.confirmed, FollowUp.NOT_YET: ReportAction.reopened}.get(payload.answer)
    if action is None:
        return Response.refusal(STALE_CHOICE)
    try:
        if action is ReportAction.reopened:
            await reports.check(turn.session, turn.person.id, payload.report_id, action)
            await turn.set_step(REOPENING, report_id=payload.report_id)
            return Response.of(Reply(L("Sorry to hear that. What is still wrong? Write a few words for the grid worker.")))
        report = await reports.act(turn.session, turn.person.id, payload.report_id, action, timezone=turn.timezone)
    except DomainError as error:
        return Response.refusal(error.text())
    return Response.of(Reply(L("Glad it is solved. How well was report #{id} handled?", id=report.id), options=_rating_options(report.id), columns=5))


async def reopen_note(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.clear()
    report_id = int(data.get("report_id", 0))
    report = await turn.session.get(Report, report_id)
    category = categories(turn).get(report.category) if report else None
    try:
        await reports.act(turn.session, turn.person.id, report_id, ReportAction.reopened, note=text, category=category, timezone=turn.timezone)
    except DomainError as error:
        return Response.of(Reply(error.text()))
    return Response.of(Reply(L("Report #{id} is open again; the grid worker has your note.", id=report_id)))


async def rated(turn: Turn, payload: ReportRating) -> Response:
    try:
        await reports.act(turn.session, turn.person.id, payload.report_id, ReportAction.rated, rating=payload.stars, timezone=turn.timezone)
    except DomainError as error:
        return Response.refusal(error.text())
    return Response.of(Reply(L("Thank you for rating report #{id}: {stars} of 5.", id=payload.report_id, stars=payload.stars), replace=True))


FEATURE = Feature(
    "reports",
    commands=(
        Command("report", ("报告", "报修", "反映", "report"), N_("Report a problem in your compound"), start, Where.private),
        # Not in the menus (WeChat's holds seven): reached from every report message, /help and 我的报告.
        Command("myreports", ("我的报告", "myreports"), N_("Your reports and what happened to them"), listing, Where.private, in_menu=False),
    ),
    payloads={
        ReportOffer: offer_answered, ReportBuilding: building_chosen, ReportCategory: category_chosen, ReportSame: same_chosen,
        ReportNew: new_chosen, MyReport: details, MyReportsPage: older, FollowUp: follow_up_answered, ReportRating: rated,
    },
    steps={DESCRIBING: text_written, CHOOSING_CATEGORY: category_typed, OFFERED: offer_typed, REOPENING: reopen_note},
    answers=frozenset({REOPENING}),
    photo_steps={step: photo_sent for step in DRAFT_STEPS},
    location_steps={step: location_sent for step in DRAFT_STEPS},
    free_text=free_text,
)
