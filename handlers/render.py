"""Turning plain data from the services into message text (HTML parse mode)."""

from __future__ import annotations

import html

from bot.i18n import _
from bot.services.access import GrantView
from bot.services.places import HouseholdAddress
from storage.models import Role


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def address_line(address: HouseholdAddress) -> str:
    return _("{compound} {building} {unit} room {room}").format(
        compound=escape(address.compound), building=escape(address.building), unit=escape(address.unit), room=escape(address.room)
    )


def role_name(role: Role) -> str:
    names = {
        Role.admin: _("community administrator"),
        Role.grid_worker: _("grid worker"),
        Role.volunteer: _("party-member volunteer"),
        Role.building_leader: _("building leader"),
    }
    return names[role]


def grant_line(grant: GrantView, scope_name: str) -> str:
    return _("{role} of {scope}").format(role=role_name(grant.role), scope=escape(scope_name))
