"""Complaint categories: codes, names in each language, deadlines and keywords, from a data file."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_CATEGORIES_FILE = Path(__file__).with_name("data") / "categories.toml"
OTHER = "other"


@dataclass(frozen=True)
class Category:
    code: str
    names: dict[str, str]  # locale → name
    renovation_class: str  # basic, improvement, enhancement, or none
    deadline_hours: int
    keywords: tuple[str, ...]
    urgent_keywords: tuple[str, ...] = ()
    urgent_deadline_hours: int | None = None

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("zh_CN") or self.code


def load_categories(path: Path = DEFAULT_CATEGORIES_FILE) -> dict[str, Category]:
    with path.open("rb") as file:
        data = tomllib.load(file)
    categories: dict[str, Category] = {}
    for entry in data.get("category", []):
        category = Category(
            code=entry["code"],
            names=dict(entry["name"]),
            renovation_class=entry.get("class", "none"),
            deadline_hours=int(entry["deadline_hours"]),
            keywords=tuple(entry.get("keywords", ())),
            urgent_keywords=tuple(entry.get("urgent_keywords", ())),
            urgent_deadline_hours=entry.get("urgent_deadline_hours"),
        )
        if category.code in categories:
            raise ValueError(f"{path}: category {category.code} is defined twice")
        categories[category.code] = category
    if OTHER not in categories:
        raise ValueError(f"{path}: the category {OTHER!r} is required")
    return categories


def with_deadlines(categories: dict[str, Category], hours: Mapping[str, int]) -> dict[str, Category]:
    """The categories with their deadlines overridden (GONGJIAN_REPORT_DEADLINES); an unknown
    code or an hour count below one is a configuration error, said at start."""
    unknown = sorted(set(hours) - set(categories))
    if unknown:
        raise ValueError("GONGJIAN_REPORT_DEADLINES names categories that are not configured: " + ", ".join(unknown))
    if any(value < 1 for value in hours.values()):
        raise ValueError("GONGJIAN_REPORT_DEADLINES: a deadline is a whole number of hours, at least 1")
    return {code: replace(category, deadline_hours=hours[code]) if code in hours else category for code, category in categories.items()}
