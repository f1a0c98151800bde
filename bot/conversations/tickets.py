"""Work orders, the handler's side: /tickets (工单) lists the open reports of the places a grid
worker's (or an admin's) role covers, overdue first, narrowed by category or status; a ticket
is accepted, given progress notes (with a photo), resolved, rejected with a reason,
re-categorised (a correction for the router) or transferred to another grid worker. Every
button is checked again by the service: a resident pressing a forged one changes nothing."""

from __future__ import annotations

import functools
from datetime import datetime

from bot.categories import Category
from bot.conversations.feature import STALE_CHOICE, Command, Feature, Where
from bot.conversations.payloads import TicketAction, TicketCategory, TicketFilter, TicketOpen, TicketPage, TicketTransfer
from bot.conversations.reports import MAX_PAGE, categories, category_name, history_lines, one_page
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import Attachment, L, Lines, Option, Reply, Response, Text
from bot.services import access, corrections, reports
from bot.services.errors import DomainError
from storage.models import OPEN_REPORT_STATUSES, Report, ReportAction, ReportStatus, Role, utcnow

WRITING_NOTE = "tickets.note"  # data: report_id, action (a ReportAction value)
ACCEPT, PROGRESS, RESOLVE, REJECT, RECATEGORISE, TRANSFER = 1, 2, 3, 4, 5, 6
# What each button asks for: the service's action, and the question for its note (None: no note).
TICKET_ACTIONS: dict[int, tuple[ReportAction, str | None]] = {
    ACCEPT: (ReportAction.accepted, None),
    PROGRESS: (ReportAction.progress, N_("Write the progress note (a photo with a caption works too).")),
    RESOLVE: (ReportAction.resolved, N_("Write what was done; the resident will be asked to confirm.")),
    REJECT: (ReportAction.rejected, N_("Write the reason for rejecting (not our responsibility, duplicate ...).")),
    RECATEGORISE: (ReportAction.recategorised, None),
    TRANSFER: (ReportAction.transferred, None),
}
ACTION_LABELS = {
    ACCEPT: N_("Accept (签收)"), PROGRESS: N_("Progress note"), RESOLVE: N_("Resolved (办结)"),
    REJECT: N_("Reject (退单)"), RECATEGORISE: N_("Change category"), TRANSFER: N_("Transfer"),
}
BY_CATEGORY, BY_STATUS, EVERYTHING = "c", "s", "a"
HANDLERS = frozenset({Role.admin, Role.grid_worker})


async def listing(turn: Turn, args: str = "") -> Response:
    wanted = args.strip().casefold()
    code = next((c for c, category in categories(turn).items() if wanted and wanted in (c, *map(str.casefold, category.names.values()))), None)
    response = await _list(turn, category=code)
    if wanted and code is None and response.replies and response.replies[0].options:  # a word that names no kind of problem
        response.replies.insert(0, Reply(L("No kind of problem is called {word}; here are all open reports.", word=args.strip())))
    return response


async def filtered(turn: Turn, payload: TicketFilter) -> Response:
    return await _narrowed(turn, payload.kind, payload.value, page=1)


async def paged(turn: Turn, payload: TicketPage) -> Response:
    return await _narrowed(turn, payload.kind, payload.value, page=min(payload.page, MAX_PAGE))


async def _narrowed(turn: Turn, kind: str, value: str, *, page: int) -> Response:
    if kind == BY_CATEGORY and value in categories(turn):
        return await _list(turn, category=value, page=page)
    if kind == BY_STATUS and value in {s.value for s in OPEN_REPORT_STATUSES}:
        return await _list(turn, status=ReportStatus(value), page=page)
    return await _list(turn, page=page)


async def _list(turn: Turn, *, category: str | None = None, status: ReportStatus | None = None, page: int = 1) -> Response:
    if not {grant.role for grant in await access.roles_of(turn.session, turn.person.id)} & HANDLERS:
        return Response.of(Reply(L("Work orders are handled by grid workers and community administrators. To report a problem, send /report.")))
    now = utcnow()
    statuses = (status,) if status else OPEN_REPORT_STATUSES
    found, more = await one_page(functools.partial(reports.tickets, turn.session, turn.actor, now=now, category=category, statuses=statuses), page)
    if not found and category is None and status is None and page == 1:
        return Response.of(Reply(L("No open reports in your grid. Well done!")))
    lines: list[Text] = [_ticket_line(turn, report, now) for report in found] or [L("None of these.")]
    options = [Option(L("#{id} open", id=report.id), TicketOpen(report.id).pack()) for report in found]
    if more:  # the less urgent ones, a page at a time
        kind, value = (BY_CATEGORY, category) if category else (BY_STATUS, status.value) if status else (EVERYTHING, "all")
        options.append(Option(L("More work orders"), TicketPage(kind, value, page + 1).pack()))
    options += [Option(reports.status_name(s), TicketFilter(BY_STATUS, s.value).pack()) for s in OPEN_REPORT_STATUSES if s is not status]
    shown = dict.fromkeys(report.category for report in found if report.category != category)
    options += [Option(category_name(turn, code), TicketFilter(BY_CATEGORY, code).pack()) for code in shown]
    if category or status:
        options.append(Option(L("All open reports"), TicketFilter(EVERYTHING, "all").pack()))
    return Response.of(Reply(Lines(lines), title=L("Open reports"), options=tuple(options), columns=2))


def _ticket_line(turn: Turn, report: Report, now: datetime) -> Text:
    overdue = L("OVERDUE ") if report.deadline < now else ""
    return L(
        "{overdue}#{id} {category} · {status} · by {deadline} · +{votes}: {text}", overdue=overdue, id=report.id,
        category=category_name(turn, report.category), status=reports.status_name(report.status),
        deadline=reports.local_time(report.deadline, turn.timezone), votes=report.priority, text=reports.summary(report),
    )


async def opened(turn: Turn, payload: TicketOpen) -> Response:
    try:
        report = await reports.handled_report(turn.session, turn.actor, payload.report_id)
    except DomainError as error:
        return Response.refusal(error.text())
    return await _show(turn, report)


async def _show(turn: Turn, report: Report) -> Response:
    lines: list[Text] = [
        L("{category} · {status}", category=category_name(turn, report.category), status=reports.status_name(report.status)),
        L("Deadline: {deadline}", deadline=reports.local_time(report.deadline, turn.timezone)),
        report.text,
    ]
    if report.latitude is not None and report.longitude is not None:
        lines.append(L("Location: {place}", place=" ".join(filter(None, [report.location_label, f"{report.latitude}, {report.longitude}"]))))
    if report.photos:
        lines.append(L("Photos: {count}", count=len(report.photos)))
    lines += ["", *history_lines(turn, await reports.history(turn.session, report.id))]
    possible = [code for code, (action, _) in TICKET_ACTIONS.items() if report.status in reports.TRANSITIONS[action].sources]
    options = tuple(Option(L(ACTION_LABELS[code]), TicketAction(report.id, code).pack()) for code in possible)
    replies = [Reply(Lines(lines), title=L("Work order #{id}", id=report.id), options=options, columns=2)]
    # Photos a channel keeps can be shown on that channel only: its file ids mean nothing elsewhere.
    here = [photo["file_id"] for photo in report.photos if photo.get("channel") == turn.channel.name]
    replies += [Reply(L("Photo of report #{id}", id=report.id), attachment=Attachment("photo", file_id=file_id)) for file_id in here]
    return Response(replies)


async def action_chosen(turn: Turn, payload: TicketAction) -> Response:
    if payload.action not in TICKET_ACTIONS:
        return Response.refusal(STALE_CHOICE)
    action, question = TICKET_ACTIONS[payload.action]
    try:
        report = await reports.check(turn.session, turn.person.id, payload.report_id, action)
        if payload.action == RECATEGORISE:
            options = tuple(Option(category_name(turn, code), TicketCategory(report.id, code).pack()) for code in categories(turn) if code != report.category)
            return Response.of(Reply(L("Which category does report #{id} belong to?", id=report.id), options=options, columns=2))
        if payload.action == TRANSFER:
            workers = [(pid, name) for pid, name in await reports.grid_workers_of(turn.session, report) if pid != turn.person.id]
            if not workers:
                return Response.of(Reply(L("No other grid worker covers this building.")))
            options = tuple(Option(name, TicketTransfer(report.id, pid).pack()) for pid, name in workers)
            return Response.of(Reply(L("Transfer report #{id} to:", id=report.id), options=options))
        if question is None:
            return await _act(turn, report.id, action)
    except DomainError as error:
        return Response.refusal(error.text())
    await turn.set_step(WRITING_NOTE, report_id=report.id, action=action.value)
    return Response.of(Reply(L(question)))


async def note_written(turn: Turn, text: str) -> Response:
    return await _noted(turn, text, None)


async def note_photo(turn: Turn, file_id: str, caption: str) -> Response:
    return await _noted(turn, caption, reports.Photo(turn.channel.name, file_id))


async def _noted(turn: Turn, note: str, photo: reports.Photo | None) -> Response:
    _, data = await turn.step()
    action = ReportAction(str(data.get("action")))
    if action is ReportAction.rejected and not note.strip():
        return Response.of(Reply(L("A rejection needs a reason in words. Please write it.")))
    await turn.clear()
    return await _act(turn, int(data.get("report_id", 0)), action, note=note, photo=photo)


async def category_chosen(turn: Turn, payload: TicketCategory) -> Response:
    category = categories(turn).get(payload.code)
    if category is None:
        return Response.refusal(L(reports.UNKNOWN_CATEGORY))
    try:
        report = await reports.check(turn.session, turn.person.id, payload.report_id, ReportAction.recategorised)
        previous = report.category
        response = await _act(turn, report.id, ReportAction.recategorised, category=category)
    except DomainError as error:
        return Response.refusal(error.text())
    await corrections.record_correction(turn.session, categories(turn), report.text, category.code, previous_category=previous, person_id=turn.person.id)
    return response


async def transfer_chosen(turn: Turn, payload: TicketTransfer) -> Response:
    return await _act(turn, payload.report_id, ReportAction.transferred, to_person_id=payload.person_id)


async def _act(
    turn: Turn, report_id: int, action: ReportAction, *, note: str = "", photo: reports.Photo | None = None,
    category: Category | None = None, to_person_id: int | None = None,
) -> Response:
    try:
        report = await reports.act(
            turn.session, turn.person.id, report_id, action, note=note, photo=photo, category=category, to_person_id=to_person_id, timezone=turn.timezone
        )
    except DomainError as error:
        return Response.refusal(error.text())
    done = Reply(L("Report #{id}: {action}. The resident has been told.", id=report.id, action=reports.action_name(action)))
    if action is ReportAction.transferred:
        return Response.of(done)
    shown = await _show(turn, report)
    return Response([done, *shown.replies])


FEATURE = Feature(
    "tickets",
    commands=(Command("tickets", ("工单", "tickets"), N_("Open reports of your grid: accept, handle, resolve"), listing, Where.private, HANDLERS),),
    payloads={TicketOpen: opened, TicketFilter: filtered, TicketPage: paged, TicketAction: action_chosen, TicketCategory: category_chosen, TicketTransfer: transfer_chosen},
    steps={WRITING_NOTE: note_written},
    answers=frozenset({WRITING_NOTE}),
    photo_steps={WRITING_NOTE: note_photo},
)
