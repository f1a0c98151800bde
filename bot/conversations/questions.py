"""Questions to grid workers (/ask, 提问): the resident writes the question and first sees up to
three close answers the community already has; "ask a person" puts it in the grid's queue, with
its place in line and the typical wait. Grid workers see the queue (/queue, 队列), take the next
question, answer in text or photos, transfer, close, and make FAQ entries of good answers;
admins keep the FAQ (/faq). Each message of a question goes to the other side through the
outbox, so a WeChat resident and a Telegram grid worker talk as easily as two on one channel."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.conversations.feature import STALE_CHOICE, Command, Feature, Where
from bot.conversations.payloads import (
    FaqAdd,
    FaqDelete,
    FaqKeep,
    QuestionAction,
    QuestionHelped,
    QuestionRating,
    QuestionToPerson,
    TakeNextQuestion,
    TransferTo,
    WorkerAction,
)
from bot.conversations.turn import Turn
from bot.delivery import outbox
from bot.i18n import N_
from bot.replies import Attachment, L, Lines, Msg, Option, Reply, Response, Text
from bot.services import questions
from bot.services.errors import DomainError
from bot.services.similarity import Candidate
from storage.models import DeliveryPriority, Person, Question, Role, utcnow

ASKING = "questions.ask"
CHOOSING = "questions.choose"  # data: text
OPEN = "questions.open"  # data: question_id; what the resident writes goes to the question
ANSWERING = "questions.answer"  # data: question_id; what the worker writes goes to the resident
FAQ_QUESTION = "questions.faq_question"  # data: community_id, question, answer (defaults, may be "")
FAQ_ANSWER = "questions.faq_answer"  # data: as FAQ_QUESTION
KINDS = {1: "faq", 2: "answer"}
ADD_DETAILS, WITHDRAW, SOLVED = 1, 2, 3
ANSWER, TRANSFER, CLOSE, MAKE_FAQ, TO_ADMINS = 1, 2, 3, 4, 5
SHORT = 40  # characters of a question quoted in a button or a list


def _short(text: str) -> str:
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"


def _duration(wait: timedelta) -> Msg:
    minutes = max(1, round(wait.total_seconds() / 60))
    if minutes < 120:
        return L("about {minutes} minutes", minutes=minutes)
    return L("about {hours} hours", hours=round(minutes / 60))


async def _tell(session: AsyncSession, person_ids: Iterable[int], reply: Reply, question: Question) -> None:
    """A message about a question to people, each on the channel they came to last."""
    await outbox.enqueue_to_people(session, person_ids, reply, source=f"question:{question.id}", priority=DeliveryPriority.personal)


async def _name(session: AsyncSession, person_id: int | None) -> str:
    person = await session.get(Person, person_id) if person_id else None
    return person.display_name if person else ""


def _attachment(photo_file_id: str | None) -> Attachment | None:
    return Attachment("photo", file_id=photo_file_id) if photo_file_id else None


# --- the resident ---------------------------------------------------------------------------


async def start(turn: Turn, args: str = "") -> Response:
    question = await questions.open_question(turn.session, turn.person.id)
    if question is not None:
        return await _status(turn, question)
    try:
        await questions.home(turn.session, turn.person.id)  # questions go to the grid of a household
    except DomainError as error:
        return Response.of(Reply(error.text()))
    if args.strip():
        return await question_written(turn, args)
    await turn.set_step(ASKING)
    return Response.of(Reply(L("Write your question in your own words, for example: 加装电梯每户要出多少钱？")))


async def _status(turn: Turn, question: Question) -> Response:
    await turn.set_step(OPEN, question_id=question.id)
    options = (Option(L("Withdraw the question"), QuestionAction(question.id, WITHDRAW).pack()),)
    if question.claimed_by is not None:
        text = L("Your question is with {name}. Write here to add to it.\n\n{text}", name=await _name(turn.session, question.claimed_by), text=question.text)
    else:
        text = await _place_text(turn.session, question)
    return Response.of(Reply(text, options=options))


async def _place_text(session: AsyncSession, question: Question) -> Msg:
    place = await questions.place_in_line(session, question)
    wait = await questions.typical_wait(session, question.grid_id)
    typical = L("Questions here are usually answered in {wait}.", wait=_duration(wait)) if wait else L("There is no usual waiting time here yet.")
    return L(
        "Your question is number {place} in line for your grid worker. {typical} Write here to add details; send /ask to see it again or withdraw it.",
        place=place, typical=typical,
    )


async def question_written(turn: Turn, text: str) -> Response:
    text = text.strip()
    if not text:
        return Response.of(Reply(L("Please write your question in words.")))
    try:
        found = await questions.suggestions(turn.session, turn.person.id, text)
    except DomainError as error:
        await turn.clear()
        return Response.of(Reply(error.text()))
    if not found:
        return await _queue(turn, text)
    await turn.set_step(CHOOSING, text=text)
    return Response.of(_suggestions_reply(found))


def _suggestions_reply(found: list[Candidate]) -> Reply:
    lines: list[Text] = [L("These answers may already help:")]
    options = []
    for number, candidate in enumerate(found, 1):
        lines += ["", L("{number}. Q: {question}\nA: {answer}", number=number, question=candidate.question, answer=candidate.answer)]
        kind = next(code for code, name in KINDS.items() if name == candidate.kind)
        options.append(Option(L("Answer {number} answers it", number=number), QuestionHelped(kind, candidate.id).pack()))
    options.append(Option(L("Ask a person"), QuestionToPerson().pack()))
    return Reply(Lines(lines), options=tuple(options))


async def helped(turn: Turn, payload: QuestionHelped) -> Response:
    step, data = await turn.step()
    if step != CHOOSING or payload.kind not in KINDS:
        return Response.refusal(STALE_CHOICE)
    try:
        await questions.self_served(turn.session, turn.person.id, str(data["text"]), KINDS[payload.kind], payload.entry_id)
    except DomainError as error:
        return Response.refusal(error.text())
    await turn.clear()
    return Response.of(Reply(L("Glad it helped. Send /ask whenever you have another question."), replace=True))


async def to_person(turn: Turn, payload: QuestionToPerson) -> Response:
    step, data = await turn.step()
    if step != CHOOSING:
        return Response.refusal(STALE_CHOICE)
    return await _queue(turn, str(data["text"]))


async def _queue(turn: Turn, text: str) -> Response:
    try:
        question = await questions.ask(turn.session, turn.person.id, text)
    except DomainError as error:
        await turn.clear()
        return Response.of(Reply(error.text()))
    await turn.set_step(OPEN, question_id=question.id)
    workers = await questions.grid_workers(turn.session, question)
    await _tell(turn.session, workers, Reply(L("A new question is waiting in your queue."), options=(Option(L("Take the next question"), TakeNextQuestion().pack()),)), question)
    # No options here: on a numbered channel they would stay the menu that "1" chooses while the
    # answers arrive (whose own options that channel does not remember); /ask offers withdrawing.
    return Response.of(Reply(await _place_text(turn.session, question)))


async def resident_wrote(turn: Turn, text: str) -> Response:
    return await _follow_up(turn, text, None)


async def resident_photo(turn: Turn, file_id: str, caption: str) -> Response:
    return await _follow_up(turn, caption, file_id)


async def _follow_up(turn: Turn, text: str, photo: str | None) -> Response:
    _, data = await turn.step()
    try:
        question = await questions.resident_question(turn.session, turn.person.id, int(data["question_id"]))
    except DomainError:
        await turn.clear()  # closed meanwhile (by the grid worker, or on another channel)
        return Response.of(Reply(L("Your question has been closed. Send /ask to ask a new one.")))
    await questions.add_message(turn.session, question, turn.person.id, text, photo, from_resident=True)
    if question.claimed_by is None:
        return Response.of(Reply(L("Added to your question. It is number {place} in line.", place=await questions.place_in_line(turn.session, question))))
    relay = Reply(
        text or L("(a photo)"), title=L("{name} adds to question {id}", name=turn.person.display_name, id=question.id),
        options=(Option(L("Reply"), WorkerAction(question.id, ANSWER).pack()),), attachment=_attachment(photo),
    )
    await _tell(turn.session, [question.claimed_by], relay, question)
    return Response.of(Reply(L("Sent to {name}.", name=await _name(turn.session, question.claimed_by))))


async def resident_action(turn: Turn, payload: QuestionAction) -> Response:
    try:
        if payload.action == ADD_DETAILS:
            question = await questions.resident_question(turn.session, turn.person.id, payload.question_id)
            await turn.set_step(OPEN, question_id=question.id)
            return Response.of(Reply(L("Write your reply now (a photo works too).")))
        if payload.action == WITHDRAW:
            question = await questions.withdraw(turn.session, turn.person.id, payload.question_id)
            await turn.clear()
            if question.claimed_by is not None:
                await _tell(turn.session, [question.claimed_by], Reply(L("The resident withdrew question {id}.", id=question.id)), question)
            return Response.of(Reply(L("Your question is withdrawn."), replace=True))
        if payload.action == SOLVED:
            question = await questions.close_by_resident(turn.session, turn.person.id, payload.question_id)
            await turn.clear()
            holder = [question.claimed_by] if question.claimed_by else []
            await _tell(turn.session, holder, Reply(L("The resident marked question {id} as solved.", id=question.id)), question)
            return Response.of(_rating_request(question))
    except DomainError as error:
        return Response.refusal(error.text())
    return Response.refusal(STALE_CHOICE)


def _rating_request(question: Question) -> Reply:
    stars = tuple(Option(str(n), QuestionRating(question.id, n).pack()) for n in range(1, 6))
    return Reply(L("Your question is closed. How helpful was the answer? 1 is poor, 5 is very good."), options=stars, columns=5)


async def rated(turn: Turn, payload: QuestionRating) -> Response:
    try:
        await questions.rate(turn.session, turn.person.id, payload.question_id, payload.stars)
    except DomainError as error:
        return Response.refusal(error.text())
    return Response.of(Reply(L("Thank you for rating the answer."), replace=True))


# --- grid workers and admins ----------------------------------------------------------------


async def queue(turn: Turn, args: str = "") -> Response:
    try:
        view = await questions.queue_view(turn.session, turn.actor)
    except DomainError as error:
        return Response.of(Reply(error.text()))
    if view.waiting and view.oldest is not None:
        text: Text = L("{count} questions wait in your queue; the oldest has waited {wait}.", count=view.waiting, wait=_duration(utcnow() - view.oldest))
    else:
        text = L("No question is waiting in your queue.")
    options = [Option(L("Take the next question"), TakeNextQuestion().pack())] if view.waiting else []
    options += [Option(L("Continue: {text}", text=_short(q.text)), WorkerAction(q.id, ANSWER).pack()) for q in view.holding]
    return Response.of(Reply(text, options=tuple(options)))


async def take_next(turn: Turn, payload: TakeNextQuestion) -> Response:
    try:
        question = await questions.take_next(turn.session, turn.actor)
    except DomainError as error:
        return Response.refusal(error.text())
    if question is None:
        return Response.of(Reply(L("No question is waiting in your queue.")))
    return await _show(turn, question)


async def _show(turn: Turn, question: Question) -> Response:
    """The question and its thread, to the one who holds it; what they write next answers it."""
    await turn.set_step(ANSWERING, question_id=question.id)
    lines: list[Text] = [question.text]
    for message in await questions.thread(turn.session, question.id):
        said = message.text or L("(a photo)")
        lines.append(L("Resident: {text}", text=said) if message.from_resident else L("Answer: {text}", text=said))
    lines += ["", L("Write your answer now (a photo works too); it goes straight to the resident.")]
    title = L("Question {id} from {name}", id=question.id, name=await _name(turn.session, question.person_id))
    return Response.of(Reply(Lines(lines), title=title, options=_worker_options(question)))


def _worker_options(question: Question) -> tuple[Option, ...]:
    return (
        Option(L("Transfer"), WorkerAction(question.id, TRANSFER).pack()),
        Option(L("Close the question"), WorkerAction(question.id, CLOSE).pack()),
        Option(L("Make an FAQ entry of it"), WorkerAction(question.id, MAKE_FAQ).pack()),
    )


async def worker_wrote(turn: Turn, text: str) -> Response:
    return await _answer(turn, text, None)


async def worker_photo(turn: Turn, file_id: str, caption: str) -> Response:
    return await _answer(turn, caption, file_id)


async def _answer(turn: Turn, text: str, photo: str | None) -> Response:
    _, data = await turn.step()
    try:
        question = await questions.answer(turn.session, turn.actor, int(data["question_id"]), text, photo)
    except DomainError as error:
        await turn.clear()
        return Response.of(Reply(error.text()))
    relay = Reply(
        text or L("(a photo)"), title=L("Answer from {name}", name=turn.person.display_name), attachment=_attachment(photo),
        options=(Option(L("Reply"), QuestionAction(question.id, ADD_DETAILS).pack()), Option(L("Solved, thank you"), QuestionAction(question.id, SOLVED).pack())),
    )
    await _tell(turn.session, [question.person_id], relay, question)
    return Response.of(Reply(L("Sent to {name}. Write more, or choose:", name=await _name(turn.session, question.person_id)), options=_worker_options(question)))


async def worker_action(turn: Turn, payload: WorkerAction) -> Response:
    try:
        if payload.action == MAKE_FAQ:
            return await _faq_from_question(turn, payload.question_id)
        question = await questions.held(turn.session, turn.actor, payload.question_id)
        if payload.action == ANSWER:
            return await _show(turn, question)
        if payload.action == TRANSFER:
            return await _transfer_choices(turn, question)
        if payload.action == CLOSE:
            return await _close(turn, question)
        if payload.action == TO_ADMINS:
            return await _to_admins(turn, question)
    except DomainError as error:
        return Response.refusal(error.text())
    return Response.refusal(STALE_CHOICE)


async def _transfer_choices(turn: Turn, question: Question) -> Response:
    options = [Option(c.name, TransferTo(question.id, c.person_id).pack()) for c in await questions.colleagues(turn.session, question, turn.actor)]
    options.append(Option(L("The community administrators"), WorkerAction(question.id, TO_ADMINS).pack()))
    return Response.of(Reply(L("Transfer question {id} to whom?", id=question.id), options=tuple(options)))


async def transferred(turn: Turn, payload: TransferTo) -> Response:
    try:
        question = await questions.transfer(turn.session, turn.actor, payload.question_id, payload.person_id)
    except DomainError as error:
        return Response.refusal(error.text())
    await turn.clear()
    note = Reply(
        question.text, title=L("{name} passed question {id} to you", name=turn.person.display_name, id=question.id),
        options=(Option(L("Answer it"), WorkerAction(question.id, ANSWER).pack()),),
    )
    await _tell(turn.session, [payload.person_id], note, question)
    new_holder = await _name(turn.session, payload.person_id)
    await _tell(turn.session, [question.person_id], Reply(L("Your question is now with {name}.", name=new_holder)), question)
    return Response.of(Reply(L("Passed to {name}.", name=new_holder), replace=True))


async def _to_admins(turn: Turn, question: Question) -> Response:
    question = await questions.transfer(turn.session, turn.actor, question.id, None)
    await turn.clear()
    await _tell(turn.session, await questions.admins(turn.session, question), _admin_note(L("A question was passed to the community administrators.")), question)
    return Response.of(Reply(L("Passed to the community administrators."), replace=True))


def _admin_note(text: Text) -> Reply:
    return Reply(text, options=(Option(L("Take the next question"), TakeNextQuestion().pack()),))


async def _close(turn: Turn, question: Question) -> Response:
    question = await questions.close(turn.session, turn.actor, question.id)
    await turn.clear()
    await _tell(turn.session, [question.person_id], _rating_request(question), question)
    return Response.of(Reply(L("Question {id} is closed.", id=question.id), options=(Option(L("Make an FAQ entry of it"), WorkerAction(question.id, MAKE_FAQ).pack()),)))


# --- the FAQ ------------------------------------------------------------------------------


async def _faq_from_question(turn: Turn, question_id: int) -> Response:
    question = await turn.session.get(Question, question_id)
    if question is None or turn.person.id not in (question.claimed_by, question.answered_by):
        raise DomainError(questions.NO_SUCH_QUESTION)
    answer = await questions.last_answer(turn.session, question.id)
    await turn.set_step(FAQ_QUESTION, community_id=question.community_id, question=question.text, answer=answer)
    return Response.of(_edit_prompt(L("Edit the question as the FAQ should show it, or keep it:"), question.text))


def _edit_prompt(prompt: Text, current: str) -> Reply:
    if not current:
        return Reply(prompt)
    return Reply(Lines([prompt, "", current]), options=(Option(L("Keep it as it is"), FaqKeep().pack()),))


async def faq(turn: Turn, args: str = "") -> Response:
    communities = await questions.faq_communities(turn.session, turn.actor)
    if not communities:
        return Response.of(Reply(L("The FAQ is kept by community administrators.")))
    replies = [
        Reply(L("Q: {question}\nA: {answer}", question=entry.question, answer=entry.answer), options=(Option(L("Delete"), FaqDelete(entry.id).pack()),))
        for entry in await questions.faq_entries(turn.session, turn.actor)
    ]
    replies.append(Reply(L("The FAQ has {count} entries shown above.", count=len(replies)), options=(Option(L("Add an entry"), FaqAdd().pack()),)))
    return Response(replies)


async def faq_add(turn: Turn, payload: FaqAdd) -> Response:
    communities = await questions.faq_communities(turn.session, turn.actor)
    if not communities:
        return Response.refusal(STALE_CHOICE)
    await turn.set_step(FAQ_QUESTION, community_id=communities[0], question="", answer="")
    return Response.of(Reply(L("Write the question.")))


async def faq_deleted(turn: Turn, payload: FaqDelete) -> Response:
    try:
        await questions.delete_faq(turn.session, turn.actor, payload.entry_id)
    except DomainError as error:
        return Response.refusal(error.text())
    return Response.of(Reply(L("Deleted from the FAQ."), replace=True))


async def faq_question_written(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.set_step(FAQ_ANSWER, **{**data, "question": text.strip() or data["question"]})
    return Response.of(_edit_prompt(L("Now the answer, or keep it:") if data["answer"] else L("Now write the answer."), str(data["answer"])))


async def faq_answer_written(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    return await _save_faq(turn, str(data["question"]), text.strip() or str(data["answer"]))


async def faq_kept(turn: Turn, payload: FaqKeep) -> Response:
    step, data = await turn.step()
    if step == FAQ_QUESTION:
        return await faq_question_written(turn, str(data["question"]))
    if step == FAQ_ANSWER:
        return await _save_faq(turn, str(data["question"]), str(data["answer"]))
    return Response.refusal(STALE_CHOICE)


async def _save_faq(turn: Turn, question: str, answer: str) -> Response:
    _, data = await turn.step()
    await turn.clear()
    if not question or not answer:
        return Response.of(Reply(L("An FAQ entry needs a question and an answer; nothing was saved.")))
    try:
        await questions.add_faq(turn.session, turn.actor, int(data["community_id"]), question, answer)
    except DomainError as error:
        return Response.of(Reply(error.text()))
    return Response.of(Reply(L("Saved in the FAQ: residents who ask alike will see it first.")))


# --- figures ------------------------------------------------------------------------------


# --- deadlines ----------------------------------------------------------------------------


async def deadline_sweep(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Remind a grid's workers of a question waiting too long, and escalate one unanswered past
    the deadline to the community's administrators; each once (the question is marked in the
    same transaction as its messages)."""
    done = 0
    for question in await questions.due_reminders(session, now, timedelta(hours=settings.question_reminder_hours)):
        reminder = _admin_note(L("Question {id} has waited more than {hours} hours.", id=question.id, hours=f"{settings.question_reminder_hours:g}"))
        await _tell(session, await questions.grid_workers(session, question), reminder, question)
        done += 1
    for question in await questions.due_escalations(session, now, timedelta(hours=settings.question_deadline_hours)):
        escalation = _admin_note(
            L("Question {id} has had no answer for {hours} hours; administrators may take it now.\n\n{text}", id=question.id, hours=f"{settings.question_deadline_hours:g}", text=question.text)
        )
        await _tell(session, await questions.admins(session, question), escalation, question)
        done += 1
    return done


ANSWERERS = frozenset({Role.admin, Role.grid_worker})
FEATURE = Feature(
    "questions",
    commands=(
        Command("ask", ("提问", "咨询", "ask"), N_("Ask your grid worker a question"), start, Where.private),
        Command("queue", ("队列",), N_("Questions waiting for you: take the next"), queue, Where.private, ANSWERERS),
        Command("faq", ("常见问题",), N_("Keep the FAQ: add and delete entries"), faq, Where.private, frozenset({Role.admin}), in_menu=False),
    ),
    payloads={
        QuestionHelped: helped, QuestionToPerson: to_person, QuestionAction: resident_action, QuestionRating: rated,
        TakeNextQuestion: take_next, WorkerAction: worker_action, TransferTo: transferred, FaqKeep: faq_kept, FaqAdd: faq_add, FaqDelete: faq_deleted,
    },
    steps={ASKING: question_written, OPEN: resident_wrote, ANSWERING: worker_wrote, FAQ_QUESTION: faq_question_written, FAQ_ANSWER: faq_answer_written},
    photo_steps={OPEN: resident_photo, ANSWERING: worker_photo},
    answers=frozenset({ASKING}),  # an open question is a thread, which its buttons take up again
)
