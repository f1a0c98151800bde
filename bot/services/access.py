"""Roles and the one place where permissions are decided.

A role is granted with a scope (community, compound or building); a grant on a community also
covers its compounds and their buildings. Every handler that needs a role asks `has_role`, on
every message and callback, because callback data can be forged.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.services import audit, places
from bot.services.errors import DomainError
from storage.models import Building, Compound, PlaceKind, Role, RoleGrant, ScopeKind


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    id: int

    @classmethod
    def parse(cls, text: str) -> Scope:
        """'community:3' → Scope(community, 3)."""
        kind, _, number = text.partition(":")
        try:
            return cls(ScopeKind(kind.strip()), int(number))
        except ValueError:
            raise DomainError(N_("A scope looks like community:ID, compound:ID or building:ID, not {text}."), text=text) from None

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


@dataclass(frozen=True)
class GrantView:
    role: Role
    scope: Scope


async def grant_role(session: AsyncSession, person_id: int, role: Role, scope: Scope, *, actor: audit.Actor) -> bool:
    """Grant a role; False when the person had it already."""
    if not await places.place_exists(session, PlaceKind(scope.kind.value), scope.id):
        raise DomainError(places.NO_SUCH_PLACE, kind=scope.kind.value, id=scope.id)
    existing = await session.scalar(select(RoleGrant.id).where(*_grant_matches(person_id, role, scope)))
    if existing is not None:
        return False
    session.add(RoleGrant(person_id=person_id, role=role, scope_kind=scope.kind, scope_id=scope.id))
    await audit.record(session, actor, "grant_role", f"person:{person_id}", role=role.value, scope=str(scope))
    return True


async def revoke_role(session: AsyncSession, person_id: int, role: Role, scope: Scope, *, actor: audit.Actor) -> bool:
    """Revoke a role; False when the person did not have it."""
    result = await session.execute(delete(RoleGrant).where(*_grant_matches(person_id, role, scope)))
    if not result.rowcount:
        return False
    await audit.record(session, actor, "revoke_role", f"person:{person_id}", role=role.value, scope=str(scope))
    return True


def _grant_matches(person_id: int, role: Role, scope: Scope) -> tuple[ColumnElement[bool], ...]:
    return (
        RoleGrant.person_id == person_id,
        RoleGrant.role == role,
        RoleGrant.scope_kind == scope.kind,
        RoleGrant.scope_id == scope.id,
    )


async def roles_of(session: AsyncSession, person_id: int) -> list[GrantView]:
    grants = await session.scalars(select(RoleGrant).where(RoleGrant.person_id == person_id).order_by(RoleGrant.id))
    return [GrantView(g.role, Scope(g.scope_kind, g.scope_id)) for g in grants]


async def scopes_containing(session: AsyncSession, scope: Scope) -> list[Scope]:
    """The scope itself and every scope above it: a building lies in a compound, in a community."""
    chain = [scope]
    if scope.kind is ScopeKind.building:
        compound_id = await session.scalar(select(Building.compound_id).where(Building.id == scope.id))
        if compound_id is None:
            return chain
        scope = Scope(ScopeKind.compound, compound_id)
        chain.append(scope)
    if scope.kind is ScopeKind.compound:
        community_id = await session.scalar(select(Compound.community_id).where(Compound.id == scope.id))
        if community_id is not None:
            chain.append(Scope(ScopeKind.community, community_id))
    return chain


async def has_role(session: AsyncSession, person_id: int, roles: set[Role], where: Scope | None = None) -> bool:
    """Whether the person holds one of `roles`, anywhere (where=None) or over the scope `where`."""
    query = select(RoleGrant.scope_kind, RoleGrant.scope_id).where(RoleGrant.person_id == person_id, RoleGrant.role.in_(roles))
    grants = {Scope(kind, scope_id) for kind, scope_id in await session.execute(query)}
    if where is None:
        return bool(grants)
    return any(scope in grants for scope in await scopes_containing(session, where))
