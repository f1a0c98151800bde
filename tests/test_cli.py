"""The command line as a community office uses it: import, places, grant, invite, run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.cli import main

HEADER = ["district", "street", "community", "compound", "building", "unit", "floor", "room", "area"]
ROWS = [
    ["冷水滩区", "梅湾街道", "通化街社区", "西冲塘小区", "1栋", "1单元", "1", "101", "58.60"],
    ["冷水滩区", "梅湾街道", "通化街社区", "西冲塘小区", "1栋", "1单元", "1", "102", "72.35"],
    ["冷水滩区", "梅湾街道", "通化街社区", "西冲塘小区", "2栋", "1单元", "3", "301", "80"],
]


@pytest.fixture(autouse=True)
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("GONGJIAN_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    return path


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows([header, *rows])
    return path


def places_json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["places", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_import_creates_the_hierarchy_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = write_csv(tmp_path / "households.csv", ROWS)
    assert main(["import", "households", str(file)]) == 0
    assert "household 3" in capsys.readouterr().out
    first = places_json(capsys)
    kinds = [p["kind"] for p in first]
    assert kinds.count("household") == 3 and kinds.count("building") == 2 and kinds.count("district") == 1
    household = next(p for p in first if p["name"] == "101")
    unit = next(p for p in first if p["kind"] == "unit" and p["id"] == household["parent_id"])
    assert unit["name"] == "1单元" and household["area"] == "58.60" and household["floor"] == 1

    assert main(["import", "households", str(file)]) == 0
    assert "无新增" in capsys.readouterr().out
    assert places_json(capsys) == first


def test_import_reads_chinese_headers_from_excel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["区县", "街道", "社区", "小区", "楼栋", "单元", "楼层", "房号", "面积"])
    sheet.append(["零陵区", "徐家井街道", "潇湘门社区", "税务小区", "A栋", "1单元", 2, 201, 88.5])
    sheet.append([None] * 9)  # a trailing blank line, as spreadsheets have
    workbook.save(tmp_path / "households.xlsx")
    assert main(["import", "households", str(tmp_path / "households.xlsx")]) == 0
    household = next(p for p in places_json(capsys) if p["kind"] == "household")
    assert household["name"] == "201" and household["area"] == "88.50" and household["floor"] == 2


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        (["冷水滩区", "梅湾街道", "通化街社区", "西冲塘小区", "1栋", "1单元", "1", "103", "五十"], "面积 五十 不是数字"),
        (["冷水滩区", "梅湾街道", "通化街社区", "西冲塘小区", "1栋", "1单元", "一楼", "103", "50"], "楼层 一楼 不是整数"),
        (["冷水滩区", "梅湾街道", "通化街社区", "", "1栋", "1单元", "1", "103", "50"], "compound 一栏是空的"),
        (["冷水滩区", "梅湾街道", "通化街社区", "西冲塘小区", "1栋", "1单元", "1", "101", "50"], "房号 101 重复出现"),
        (["冷水滩区", "梅湾街道", "通化街社区", "西冲塘小区", "1栋", "1单元", "1", "104", "-3"], "必须是正数"),
    ],
)
def test_one_bad_row_fails_the_whole_import(tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_row: list[str], reason: str) -> None:
    file = write_csv(tmp_path / "households.csv", [*ROWS, bad_row])
    assert main(["import", "households", str(file)]) == 1
    error = capsys.readouterr().err
    assert reason in error and "5" in error  # line 5: the header is line 1
    assert places_json(capsys) == []


def test_import_refuses_a_file_without_the_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = write_csv(tmp_path / "households.csv", [["a", "b"]], header=["name", "phone"])
    assert main(["import", "households", str(file)]) == 1
    assert "缺少列" in capsys.readouterr().err


def test_places_tree_grant_revoke_and_invites(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    main(["import", "households", str(write_csv(tmp_path / "h.csv", ROWS))])
    capsys.readouterr()
    assert main(["places"]) == 0
    tree = capsys.readouterr().out
    assert "community:1 通化街社区" in tree and "      household:1 101 (1F, 58.60 m²)" in tree

    assert main(["grant", "grid_worker", "555", "--scope", "community:1"]) == 0
    assert main(["grant", "grid_worker", "555", "--scope", "community:1"]) == 0
    assert "已经是" in capsys.readouterr().out
    assert main(["grant", "admin", "555", "--scope", "community:99"]) == 1
    assert "没有编号为 99" in capsys.readouterr().err
    assert main(["grant", "admin", "555", "--scope", "city:1"]) == 1
    assert main(["revoke", "grid_worker", "555", "--scope", "community:1"]) == 0
    assert main(["revoke", "grid_worker", "555", "--scope", "community:1"]) == 0
    assert "不是" in capsys.readouterr().out

    monkeypatch.setenv("GONGJIAN_BOT_USERNAME", "gongjian_bot")
    assert main(["invite", "building", "1", "--out", str(tmp_path / "qr.png")]) == 0
    out = capsys.readouterr().out
    code = out.split("：")[1].split()[0]
    assert f"https://t.me/gongjian_bot?start={code}" in out
    assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG")
    assert main(["invite", "building", "1", "--out", str(tmp_path / "qr.png")]) == 0
    assert code in capsys.readouterr().out  # the poster stays valid

    assert main(["invite", "household", "2"]) == 0
    first = capsys.readouterr().out.split("：")[-1].strip()
    assert main(["invite", "household", "2"]) == 0
    assert capsys.readouterr().out.split("：")[-1].strip() != first
    assert main(["invite", "household", "999"]) == 1


def test_run_without_a_token_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "GONGJIAN_BOT_TOKEN" in error[0] and "gongjian demo" in error[0]


def test_db_upgrade(capsys: pytest.CaptureFixture[str], database: Path) -> None:
    assert main(["db", "upgrade"]) == 0
    assert database.exists() and "最新" in capsys.readouterr().out


def test_settings_are_read_from_a_dot_env_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["import", "households", str(write_csv(tmp_path / "h.csv", ROWS))])
    (tmp_path / ".env").write_text("GONGJIAN_BOT_USERNAME=from_dot_env_bot\n", encoding="utf-8")  # the working folder
    capsys.readouterr()
    assert main(["invite", "building", "1", "--out", str(tmp_path / "qr.png")]) == 0
    assert "https://t.me/from_dot_env_bot?start=" in capsys.readouterr().out
