"""A vote described in a file, for `gongjian vote create FILE.yaml|FILE.json`:

    kind: decision                 # or consultation
    title: 1栋1单元加装电梯
    explanation: 费用按楼层分摊，详见公示。
    scope: unit:12                 # compound:ID, building:ID or unit:ID (see `gongjian places`)
    rule: civil-code-major         # civil-code-ordinary, or custom with both thresholds
    # participation: 2/3           # custom thresholds, or to replace the rule's
    # consent: ">1/2"
    opens: 2026-12-01 09:00        # local time (GONGJIAN_TIMEZONE); now when left out
    closes: 2026-12-15 18:00
    # items: [加装电梯, 屋面防水, 楼道照明]   # a consultation's, with max_choices: 2
    # plan_items: [12, 13, 15]     # or items of a published plan, by id (see /plans), in this order
    # tenants_vote: false
    # live_results: false          # otherwise only turnout is shown until the close

YAML is read with PyYAML's safe loader (JSON is YAML too, but .json files are read as JSON
so that their errors name JSON's lines).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.i18n import N_
from bot.services.errors import DomainError
from bot.services.votes import VOTE_SCOPES, VoteSpec
from storage.models import Place, PlaceKind, VoteKind, utcnow

FIELDS = {
    "kind", "title", "explanation", "scope", "rule", "participation", "consent", "opens", "closes", "items", "plan_items", "max_choices",
    "tenants_vote", "live_results",
}
BAD_FILE = N_("{name} cannot be read as a vote: {reason}")


def read_vote_file(path: Path, timezone: str) -> tuple[VoteSpec, PlaceKind]:
    """The vote the file describes, and the kind of place its scope names (checked on saving)."""
    if not path.is_file():
        raise DomainError(N_("No such file: {path}"), path=str(path))
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise DomainError(BAD_FILE, name=path.name, reason=str(error).splitlines()[0]) from None
    if not isinstance(data, dict):
        raise DomainError(BAD_FILE, name=path.name, reason="key: value lines")
    unknown = sorted(set(map(str, data)) - FIELDS)
    if unknown:
        raise DomainError(N_("Unknown fields in {name}: {fields}."), name=path.name, fields=", ".join(unknown))
    try:
        kind = VoteKind(str(_required(data, "kind", path)))
    except ValueError:
        raise DomainError(N_("kind is consultation or decision, not {value}."), value=str(data["kind"])) from None
    scope_kind, place_id = _scope(str(_required(data, "scope", path)))
    spec = VoteSpec(
        kind=kind,
        title=str(_required(data, "title", path)),
        place_id=place_id,
        opens_at=_time(data["opens"], timezone) if data.get("opens") is not None else utcnow(),
        closes_at=_time(_required(data, "closes", path), timezone),
        explanation=str(data.get("explanation") or ""),
        items=tuple(str(item) for item in data.get("items") or ()),
        plan_item_ids=_ids(data.get("plan_items") or (), path),
        max_choices=int(data.get("max_choices") or 1),
        rule=str(data.get("rule") or "civil-code-major"),
        participation=str(data["participation"]) if data.get("participation") is not None else None,
        consent=str(data["consent"]) if data.get("consent") is not None else None,
        tenants_vote=bool(data.get("tenants_vote", False)),
        live_results=bool(data.get("live_results", False)),
    )
    return spec, scope_kind


def _ids(values: Any, path: Path) -> tuple[int, ...]:
    try:
        return tuple(int(value) for value in values)
    except (TypeError, ValueError):
        raise DomainError(BAD_FILE, name=path.name, reason="plan_items: [12, 13]") from None


def _required(data: dict[str, Any], field: str, path: Path) -> Any:
    if data.get(field) in (None, ""):
        raise DomainError(N_("{name} lacks the field {field}."), name=path.name, field=field)
    return data[field]


def _scope(text: str) -> tuple[PlaceKind, int]:
    kind, _, number = text.partition(":")
    if kind.strip() not in {k.value for k in VOTE_SCOPES} or not number.strip().isdigit():
        raise DomainError(N_("A vote's scope looks like compound:ID, building:ID or unit:ID, not {text}."), text=text)
    return PlaceKind(kind.strip()), int(number)


def _time(value: Any, timezone: str) -> datetime:
    """A datetime YAML read, or text such as 2026-12-15 18:00; local time unless it says its zone."""
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise DomainError(N_("{value} is not a time such as 2026-12-15 18:00."), value=str(value)) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(timezone))


def scope_matches(place: Place | None, kind: PlaceKind) -> bool:
    return place is not None and place.kind is kind
