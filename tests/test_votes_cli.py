"""`gongjian vote create` from YAML and JSON, and `gongjian vote export` as CSV and Excel, whose
roll `gongjian vote tally` counts to the same result as the bot."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from bot.demo import sample_households
from bot.services import audit, people, places, votes
from storage import migrate
from storage.db import create_engine, create_sessionmaker
from storage.models import Household, Place, PlaceKind, Vote


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("GONGJIAN_DATABASE_URL", url)

    async def seed() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        async with create_sessionmaker(engine).begin() as session:
            await places.import_households(session, sample_households(), actor=audit.COMMAND_LINE)
        await engine.dispose()

    asyncio.run(seed())
    return url


def place_id(url: str, kind: PlaceKind, name: str) -> int:
    async def find() -> int:
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            found = await session.scalar(select(Place.id).where(Place.kind == kind, Place.name == name))
        await engine.dispose()
        assert found is not None
        return found

    return asyncio.run(find())


YAML = """\
kind: decision
title: 1栋加装电梯
explanation: 费用按楼层分摊。
scope: building:{building}
rule: civil-code-ordinary
opens: 2026-01-01 09:00
closes: 2099-12-15 18:00
"""


def test_a_vote_from_yaml_is_created_and_its_export_tallies_like_the_bot(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    building = place_id(database, PlaceKind.building, "1栋")
    (tmp_path / "vote.yaml").write_text(YAML.format(building=building), encoding="utf-8")
    assert main(["vote", "create", str(tmp_path / "vote.yaml")]) == 0
    assert "1栋加装电梯" in capsys.readouterr().out

    async def cast() -> None:
        engine = create_engine(database)
        async with create_sessionmaker(engine).begin() as session:
            vote = await session.scalar(select(Vote))
            assert vote is not None and vote.rule == "civil-code-ordinary" and vote.consent == ">1/2"
            options = {o.choice: o.id for o in await votes.options_of(session, vote.id)}
            homes = list(await session.scalars(select(Household.id).where(Household.building_id == building).order_by(Household.id)))
            for index, home in enumerate(homes[:18]):  # 18 of 24 take part: 3/4; 9 agree, 9 not: exactly half
                person = await people.get_or_create_person(session, people.TELEGRAM, str(9000 + index))
                await people.join_household(session, person.id, home, verified=True)
                await votes.cast(session, person.id, vote.id, home, [options["agree" if index % 2 else "disagree"]])
        await engine.dispose()

    asyncio.run(cast())
    assert main(["vote", "export", "1", str(tmp_path / "roll.csv")]) == 0
    with (tmp_path / "roll.csv").open(encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 24 and {r["choice"] for r in rows} == {"同意", "不同意", ""} and {r["channel"] for r in rows} == {"网上", ""}
    capsys.readouterr()
    assert main(["vote", "tally", str(tmp_path / "roll.csv"), "--rule", "civil-code-ordinary"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["participating_households"] == 18 and summary["agree_households"] == 9
    assert summary["participation_met"] is True and summary["consent_met"] is False and summary["passed"] is False

    assert main(["vote", "export", "1", str(tmp_path / "roll.xlsx")]) == 0
    sheet = load_workbook(tmp_path / "roll.xlsx").active
    assert [c.value for c in next(sheet.iter_rows())] == ["household", "area", "choice", "channel", "time"] and sheet.max_row == 25


FILE_ERRORS = [
    ('{"kind": "decision", "title": "x", "scope": "community:1", "closes": "2099-01-01 00:00"}', "compound:ID"),
    ('{"kind": "vote", "title": "x"}', "vote"),
    ('{"kind": "decision", "title": "x", "scope": "building:2", "closes": "soon"}', "soon"),
    ('{"kind": "decision", "title": "x", "scope": "building:2", "closes": "2099-01-01 00:00", "colour": 1}', "colour"),
    ('{"kind": "decision", "title": "x"', "v.json"),
]


@pytest.mark.parametrize(("text", "words"), FILE_ERRORS)
def test_a_bad_vote_file_is_one_line_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: str) -> None:
    (tmp_path / "v.json").write_text(text, encoding="utf-8")
    assert main(["vote", "create", str(tmp_path / "v.json")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and words in err


def test_a_vote_the_database_refuses_is_one_line_on_stderr(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, text, words in (
        ("v.yaml", "kind: [decision", "v.yaml"),
        ("missing.yaml", None, "missing.yaml"),
        ("v.json", '{"kind": "decision", "title": "x", "scope": "compound:999", "closes": "2099-01-01 00:00"}', "999"),
        ("v.yaml", "kind: consultation\ntitle: x\nscope: compound:4\ncloses: 2099-01-01 00:00\nitems: [a]\n", "2 到 20"),
    ):
        if text is not None:
            (tmp_path / name).write_text(text, encoding="utf-8")
        assert main(["vote", "create", str(tmp_path / name)]) == 1
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and words in err, err


def test_exporting_a_vote_that_does_not_exist_says_so(database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vote", "export", "7", str(tmp_path / "roll.csv")]) == 1
    assert "不存在" in capsys.readouterr().err and not (tmp_path / "roll.csv").exists()
