"""Signing up as building leader (/leader, 当楼栋长) or party-member volunteer (/volunteer,
当志愿者); deciding applications (/applications, 审批); listing and revoking roles (/roles,
角色管理). Who may decide or revoke is checked by the services, on every press."""

from __future__ import annotations

from bot.conversations.feature import STALE_CHOICE, Command, Feature, Where
from bot.conversations.payloads import Decision, LeaderPlace, RevokeGrant, VolunteerParty, VolunteerPlace
from bot.conversations.profile import role_name
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Lines, Option, Reply, Response, Text
from bot.services import access, applications
from bot.services.errors import DomainError
from storage.models import Role

VOLUNTEER_PARTY = "roles.volunteer_party"
VOLUNTEER_PLACE = "roles.volunteer_place"  # data: party_member
REJECT_REASON = "roles.reject_reason"  # data: application_id
YES, NO = 1, 2
APPROVE, REJECT = 1, 2


async def _place_options(turn: Turn, role: Role, payload: type[LeaderPlace] | type[VolunteerPlace]) -> tuple[Option, ...]:
    served = await applications.places_to_serve(turn.session, turn.person.id, role)
    return tuple(Option(place.name, payload(place.id).pack()) for place in served)


async def leader(turn: Turn, args: str = "") -> Response:
    options = await _place_options(turn, Role.building_leader, LeaderPlace)
    if not options:
        return Response.of(Reply(L(applications.NOT_A_RESIDENT)))
    if len(options) == 1:
        return await leader_place_chosen(turn, LeaderPlace.unpack(options[0].payload))  # type: ignore[arg-type]
    return Response.of(Reply(L("Which building would you like to lead?"), options=options))


async def leader_place_chosen(turn: Turn, payload: LeaderPlace) -> Response:
    return await _apply(turn, Role.building_leader, payload.place_id, party_member=False)


async def volunteer(turn: Turn, args: str = "") -> Response:
    if not await _place_options(turn, Role.volunteer, VolunteerPlace):
        return Response.of(Reply(L(applications.NOT_A_RESIDENT)))
    await turn.set_step(VOLUNTEER_PARTY)
    options = (Option(L("Yes, I am a party member"), VolunteerParty(YES).pack()), Option(L("No"), VolunteerParty(NO).pack()))
    return Response.of(Reply(L("Thank you for volunteering! Are you a member of the Communist Party of China? Party members' notices carry the party-member badge."), options=options))


async def volunteer_party_chosen(turn: Turn, payload: VolunteerParty) -> Response:
    step, _ = await turn.step()
    if step != VOLUNTEER_PARTY or payload.answer not in (YES, NO):
        return Response.refusal(STALE_CHOICE)
    await turn.set_step(VOLUNTEER_PLACE, party_member=payload.answer == YES)
    options = await _place_options(turn, Role.volunteer, VolunteerPlace)
    return Response.of(Reply(L("Where would you like to serve?"), options=options, replace=True))


async def volunteer_place_chosen(turn: Turn, payload: VolunteerPlace) -> Response:
    step, data = await turn.step()
    if step != VOLUNTEER_PLACE:
        return Response.refusal(STALE_CHOICE)
    return await _apply(turn, Role.volunteer, payload.place_id, party_member=bool(data.get("party_member")))


async def _apply(turn: Turn, role: Role, place_id: int, *, party_member: bool) -> Response:
    await turn.clear()
    try:
        await applications.apply(turn.session, turn.actor, role, place_id, party_member=party_member)
    except DomainError as error:
        return Response.of(Reply(error.text()))
    return Response.of(Reply(L("Thank you! Your application as {role} was sent to your community office. You will be told here when it is decided.", role=role_name(role))))


async def pending(turn: Turn, args: str = "") -> Response:
    waiting = await applications.pending(turn.session, turn.actor)
    if not waiting:
        return Response.of(Reply(L("No applications are waiting for you.")))
    replies = [Reply(L("Applications waiting for your decision: {count}", count=len(waiting)))]
    for application in waiting:
        lines: list[Text] = [L("{name} would like to be {role} of {place}.", name=application.name or "—", role=role_name(application.role), place=application.place_name)]
        if application.role is Role.volunteer:
            lines.append(L("Party member: yes") if application.party_member else L("Party member: no"))
        options = (Option(L("Approve"), Decision(application.id, APPROVE).pack()), Option(L("Reject"), Decision(application.id, REJECT).pack()))
        replies.append(Reply(Lines(lines), options=options, columns=2))
    return Response(replies)


async def decision_chosen(turn: Turn, payload: Decision) -> Response:
    if payload.verdict == REJECT:
        await turn.set_step(REJECT_REASON, application_id=payload.application_id)
        return Response.of(Reply(L("Please write the reason for the rejection; the applicant will read it.")))
    if payload.verdict != APPROVE:
        return Response.refusal(STALE_CHOICE)
    return await _decide(turn, payload.application_id, approve=True)


async def typed_reason(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.clear()
    return await _decide(turn, int(data["application_id"]), approve=False, reason=text)


async def _decide(turn: Turn, application_id: int, *, approve: bool, reason: str = "") -> Response:
    try:
        application = await applications.decide(turn.session, turn.actor, application_id, approve=approve, reason=reason)
    except DomainError as error:
        return Response.refusal(error.text())
    if approve:
        return Response.of(Reply(L("Approved: {role} granted.", role=role_name(application.role))))
    return Response.of(Reply(L("Rejected. The applicant will be told your reason.")))


async def roles(turn: Turn, args: str = "") -> Response:
    grants = await access.grants_within(turn.session, turn.actor)
    if not grants:
        return Response.of(Reply(L("There are no roles you manage.")))
    lines: list[Text] = [L("{name}: {role} of {place}", name=g.person_name or "—", role=role_name(g.role), place=g.place_name) for g in grants]
    options = tuple(Option(L("Revoke: {name}, {role}", name=g.person_name or "—", role=role_name(g.role)), RevokeGrant(g.id).pack()) for g in grants)
    return Response.of(Reply(Lines(lines), title=L("Roles"), options=options))


async def revoke_chosen(turn: Turn, payload: RevokeGrant) -> Response:
    try:
        revoked = await access.revoke_grant(turn.session, turn.actor, payload.grant_id)
    except DomainError as error:
        return Response.refusal(error.text())
    if revoked is None:
        return Response.refusal(L("This role was revoked already."))
    return Response.of(Reply(L("Revoked: {name} is no longer {role} of {place}.", name=revoked.person_name or "—", role=role_name(revoked.role), place=revoked.place_name)))


FEATURE = Feature(
    "roles",
    commands=(
        Command("leader", ("当楼栋长", "楼栋长"), N_("Sign up as building leader"), leader, Where.private, in_menu=False),
        Command("volunteer", ("当志愿者", "志愿者"), N_("Sign up as party-member volunteer"), volunteer, Where.private, in_menu=False),
        Command("applications", ("审批",), N_("Applications waiting for your decision"), pending, Where.private, frozenset({Role.admin, Role.grid_worker})),
        Command("roles", ("角色管理",), N_("Roles in your community, and revoking them"), roles, Where.private, frozenset({Role.admin})),
    ),
    payloads={
        LeaderPlace: leader_place_chosen,
        VolunteerParty: volunteer_party_chosen,
        VolunteerPlace: volunteer_place_chosen,
        Decision: decision_chosen,
        RevokeGrant: revoke_chosen,
    },
    steps={REJECT_REASON: typed_reason},
    answers=frozenset({REJECT_REASON}),
)
