"""The command line as a community office uses it: import, places, grant, invite, run; and what
an operator sees when a file, an id or the output is not what the command expects."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot import cli
from bot.cli import main
from bot.services import households_import, places

HEADER = ["district", "street", "community", "compound", "building", "unit", "floor", "room", "area"]
CHINESE_HEADER = ["区县", "街道", "社区", "小区", "楼栋", "单元", "楼层", "房号", "面积"]
PATH = ["冷水滩区", "梅湾街道", "通化街社区", "西冲塘小区"]
ROWS = [
    [*PATH, "1栋", "1单元", "1", "101", "58.60"],
    [*PATH, "1栋", "1单元", "1", "102", "72.35"],
    [*PATH, "2栋", "1单元", "3", "301", "80"],
]


@pytest.fixture(autouse=True)
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("GONGJIAN_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    return path


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8-sig", delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        csv.writer(file, delimiter=delimiter).writerows([header, *rows])
    return path


def write_workbook(path: Path, *sheets: tuple[str, list[list[object]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def places_json(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["places", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def place_id(capsys: pytest.CaptureFixture[str], kind: str, name: str) -> int:
    return next(int(p["id"]) for p in places_json(capsys) if p["kind"] == kind and p["name"] == name)  # type: ignore[call-overload]


def fails_with(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The command fails with exactly one line on stderr, and that line."""
    capsys.readouterr()
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert len(error.splitlines()) == 1 and "Traceback" not in error, error
    return error.strip()


def imported(capsys: pytest.CaptureFixture[str], file: Path) -> tuple[str, str]:
    capsys.readouterr()
    assert main(["import", "households", str(file)]) == 0
    captured = capsys.readouterr()
    return captured.out.strip(), captured.err.strip()


def test_import_creates_the_hierarchy_once_and_says_so_in_words(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    file = write_csv(tmp_path / "households.csv", ROWS)
    assert imported(capsys, file) == ("读取 3 行。新增：1 个区县、1 个街道、1 个社区、1 个小区、2 栋楼、2 个单元、3 户。", "")
    first = places_json(capsys)
    kinds = [p["kind"] for p in first]
    assert kinds.count("household") == 3 and kinds.count("building") == 2 and kinds.count("district") == 1
    household = next(p for p in first if p["name"] == "101")
    unit = next(p for p in first if p["kind"] == "unit" and p["id"] == household["parent_id"])
    assert unit["name"] == "1单元" and household["area"] == "58.60" and household["floor"] == 1

    assert imported(capsys, file) == ("读取 3 行。新增：无。", "")
    assert places_json(capsys) == first

    monkeypatch.setenv("GONGJIAN_DEFAULT_LOCALE", "en")
    write_csv(file, [*ROWS[:2], [*PATH, "2栋", "1单元", "4", "301", "80"], [*PATH, "2栋", "2单元", "1", "101", "60"]])
    out, _ = imported(capsys, file)
    assert out == "Read 4 rows. New: 1 unit, 1 household. Updated the floor or area of 1 household."


def test_import_reads_chinese_headers_from_excel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[list[object]] = [CHINESE_HEADER, ["零陵区", "徐家井街道", "潇湘门社区", "税务小区", "A栋", "1单元", 2, 201, 88.5], [None] * 9]
    assert imported(capsys, write_workbook(tmp_path / "households.xlsx", ("住户", rows)))[1] == ""  # one sheet: nothing to say
    household = next(p for p in places_json(capsys) if p["kind"] == "household")
    assert household["name"] == "201" and household["area"] == "88.50" and household["floor"] == 2


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        ([*PATH, "1栋", "1单元", "1", "103", "五十"], "面积 五十 不是数字"),
        ([*PATH, "1栋", "1单元", "一楼", "103", "50"], "楼层 一楼 不是整数"),
        ([*PATH, "1栋", "1单元", "1000", "103", "50"], "楼层 1000 不在 -9 到 200 之间"),
        ([*PATH[:3], "", "1栋", "1单元", "1", "103", "50"], "小区 一栏是空的"),
        ([*PATH, "1栋", "1单元", "1", "101", "50"], "房号 101 重复出现（第一次在第 2 行）"),
        ([*PATH, "1 栋", "1单元", "1", "１０１", "50"], "房号 101 重复出现（第一次在第 2 行）"),  # the same room, typed differently
        ([*PATH, "1栋", "1单元", "1", "104", "-3"], "面积 -3 必须是正数"),
    ],
)
def test_one_bad_row_fails_the_whole_import_naming_the_files_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_row: list[str], reason: str
) -> None:
    file = write_csv(tmp_path / "households.csv", [*ROWS, bad_row], header=CHINESE_HEADER)
    assert fails_with(capsys, ["import", "households", str(file)]).startswith(f"第 5 行：{reason}")  # the header is line 1
    assert places_json(capsys) == []


def test_errors_name_the_column_as_the_file_titles_it(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    file = write_csv(tmp_path / "households.csv", [[*PATH, "1栋", "1单元", "1", "103", "五十"]])
    assert fails_with(capsys, ["import", "households", str(file)]) == "第 2 行：area 五十 不是数字。本次没有导入任何数据。"
    monkeypatch.setenv("GONGJIAN_DEFAULT_LOCALE", "en")
    write_csv(file, [[*PATH, "1栋", "1单元", "1", "103", "五十"]], header=CHINESE_HEADER)
    assert fails_with(capsys, ["import", "households", str(file)]) == "Line 2: The 面积 五十 is not a number. Nothing was imported."


def test_a_file_without_the_header_is_refused_naming_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = write_csv(tmp_path / "households.csv", [["a", "b"]], header=["name", "phone"])
    assert fails_with(capsys, ["import", "households", str(file)]) == (
        "前 2 行里没有表头。表头一行写明这些列：区县/district, 街道/street, 社区/community, 小区/compound, 楼栋/building, 单元/unit, 楼层/floor, 房号/room, 面积/area。"
    )
    write_csv(file, [["西冲塘小区住户表"], CHINESE_HEADER[:-1]], header=[])
    assert fails_with(capsys, ["import", "households", str(file)]) == "第 3 行的表头缺少这些列：面积/area。"


def test_a_title_row_above_the_header_is_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[list[object]] = [["西冲塘小区住户信息表（2024年）"], [], CHINESE_HEADER, [*PATH, "1栋", "1单元", 1, 101, 58.6], [*PATH, "1栋", "1单元", 1, 101, 58.6]]
    file = write_workbook(tmp_path / "households.xlsx", ("Sheet1", rows))
    assert fails_with(capsys, ["import", "households", str(file)]).startswith("第 5 行：房号 101 重复出现（第一次在第 4 行）")  # lines as Excel numbers them
    write_workbook(file, ("Sheet1", rows[:-1]))
    assert imported(capsys, file)[0].startswith("读取 1 行。")


def test_a_room_that_excel_turned_into_a_date_is_refused_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[list[object]] = [CHINESE_HEADER, [*PATH, "1栋", "1单元", 3, "301", 70], [*PATH, "1栋", "1单元", 3, datetime(2024, 3, 2), 70]]
    file = write_workbook(tmp_path / "households.xlsx", ("住户", rows))
    error = fails_with(capsys, ["import", "households", str(file)])
    assert error.startswith("第 3 行：房号 一栏是日期 2024-03-02") and "文本格式" in error
    assert places_json(capsys) == []


def test_a_workbook_of_several_sheets_says_which_it_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes: list[list[object]] = [["填表说明"], ["每户一行，房号请设为文本格式。"]]
    households: list[list[object]] = [CHINESE_HEADER, [*PATH, "1栋", "1单元", 1, "101", 58.6]]
    file = write_workbook(tmp_path / "households.xlsx", ("说明", notes), ("住户", households), ("汇总", [["合计", 1]]))
    out, err = imported(capsys, file)
    assert err == "工作簿有 3 个工作表，读取的是“住户”。" and out.startswith("读取 1 行。")
    write_workbook(file, ("说明", notes), ("住户", [*households, [*PATH, "1栋", "1单元", "一楼", "102", 60]]))
    assert fails_with(capsys, ["import", "households", str(file)]).startswith("工作表“住户”第 3 行：楼层 一楼 不是整数。")


def test_full_width_and_spaced_names_are_the_same_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        [*PATH, "1栋", "1单元", "1", "101", "58.6"],
        [" 冷水滩区", "梅湾 街道", "通化街社区 ", "西冲塘　小区", "1 栋", "1  单元", "１", "102", "58.6"],  # an ideographic space, too
        [*PATH, "１栋", "１单元", "1", "103", "５８.６"],
    ]
    imported(capsys, write_csv(tmp_path / "households.csv", rows))
    kinds = [p["kind"] for p in places_json(capsys)]
    assert kinds.count("building") == kinds.count("unit") == kinds.count("compound") == kinds.count("district") == 1
    assert kinds.count("household") == 3


def test_a_gbk_file_whose_first_kilobytes_are_ascii_is_read_from_its_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ascii_rows = [["Lengshuitan", "Meiwan", "Tonghuajie", "Xichongtang", f"B{n}", "U1", "1", "101", "50"] for n in range(300)]  # ~15 KB
    file = write_csv(tmp_path / "households.csv", [*ascii_rows, *ROWS], encoding="gbk")  # what Excel saves on a Chinese Windows
    assert imported(capsys, file)[0].startswith("读取 303 行。")
    names = {p["name"] for p in places_json(capsys)}
    assert {"冷水滩区", "西冲塘小区", "B299"} <= names and "district" not in names


@pytest.mark.parametrize("delimiter", [",", "\t"])  # Excel's "Unicode text" is UTF-16 with tabs
def test_a_utf16_file_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str], delimiter: str) -> None:
    file = write_csv(tmp_path / "households.csv", ROWS, header=CHINESE_HEADER, encoding="utf-16", delimiter=delimiter)
    assert imported(capsys, file)[0].startswith("读取 3 行。新增：1 个区县")
    assert "西冲塘小区" in {p["name"] for p in places_json(capsys)}


def test_files_that_are_not_what_their_name_says_are_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "households.csv"
    binary.write_bytes(bytes(range(256)) * 40)
    assert fails_with(capsys, ["import", "households", str(binary)]) == "households.csv 不是文本文件。请把表格另存为 CSV（UTF-8）或 Excel 工作簿（.xlsx）。"
    workbook_as_csv = write_workbook(tmp_path / "workbook.xlsx", ("住户", [CHINESE_HEADER])).rename(tmp_path / "workbook.csv")
    assert "不是文本文件" in fails_with(capsys, ["import", "households", str(workbook_as_csv)])
    not_a_workbook = write_csv(tmp_path / "households.xlsx", ROWS)
    assert fails_with(capsys, ["import", "households", str(not_a_workbook)]).startswith("households.xlsx 不是 Excel 工作簿。")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    assert fails_with(capsys, ["import", "households", str(empty)]) == "文件是空的。"
    assert places_json(capsys) == []


def test_progress_is_shown_on_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(households_import, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(places, "HOUSEHOLDS_PER_BATCH", 2)
    file = write_csv(tmp_path / "households.csv", ROWS)
    assert imported(capsys, file)[1] == ""  # not a terminal: a script's log stays clean
    write_csv(file, [*ROWS, [*PATH, "3栋", "1单元", "1", "101", "50"]])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert imported(capsys, file)[1].splitlines() == ["已读取 2 行……", "已读取 4 行……", "已保存 1 / 1 户……"]


def test_places_tree_grant_revoke_and_invites(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    imported(capsys, write_csv(tmp_path / "h.csv", ROWS))
    community, building = place_id(capsys, "community", "通化街社区"), place_id(capsys, "building", "1栋")
    household = place_id(capsys, "household", "102")
    assert main(["places"]) == 0
    tree = capsys.readouterr().out.splitlines()
    assert tree[0] == "区县 #1 冷水滩区" and f"    社区 #{community} 通化街社区" in tree
    assert f"            住户 #{household} 102（1 层，72.35 平方米）" in tree
    monkeypatch.setenv("GONGJIAN_DEFAULT_LOCALE", "en")
    assert main(["places"]) == 0
    assert f"            household #{household} 102 (floor 1, 72.35 m²)" in capsys.readouterr().out.splitlines()
    monkeypatch.delenv("GONGJIAN_DEFAULT_LOCALE")

    scope = f"community:{community}"
    assert main(["grant", "grid_worker", "555", "--scope", scope]) == 0
    assert main(["grant", "grid_worker", "555", "--scope", scope]) == 0
    assert "已经是" in capsys.readouterr().out
    assert fails_with(capsys, ["grant", "admin", "555", "--scope", f"community:{building}"]) == f"没有编号为 {building} 的社区。"
    assert "范围的写法" in fails_with(capsys, ["grant", "admin", "555", "--scope", "city:1"])
    assert main(["revoke", "grid_worker", "555", "--scope", scope]) == 0
    assert main(["revoke", "grid_worker", "555", "--scope", scope]) == 0
    assert "不是" in capsys.readouterr().out

    monkeypatch.setenv("GONGJIAN_BOT_USERNAME", "gongjian_bot")
    assert main(["invite", "building", str(building), "--out", str(tmp_path / "qr.png")]) == 0
    out = capsys.readouterr().out
    code = out.split("：")[1].split()[0]
    assert f"https://t.me/gongjian_bot?start={code}" in out
    assert (tmp_path / "qr.png").read_bytes().startswith(b"\x89PNG")
    assert main(["invite", "building", str(building), "--out", str(tmp_path / "qr.png")]) == 0
    assert code in capsys.readouterr().out  # the poster stays valid

    assert main(["invite", "household", str(household)]) == 0
    first = capsys.readouterr().out.split("：")[-1].strip()
    assert main(["invite", "household", str(household)]) == 0
    assert capsys.readouterr().out.split("：")[-1].strip() != first
    assert fails_with(capsys, ["invite", "household", "999"]) == "没有编号为 999 的住户。"


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["grant", "admin", "555", "--scope", "community:99999999999999999999"], "没有编号为 99999999999999999999 的社区。"),
        (["revoke", "admin", "555", "--scope", "building:2147483648"], "没有编号为 2147483648 的楼栋。"),
        (["invite", "building", "99999999999999999999"], "没有编号为 99999999999999999999 的楼栋。"),
        (["invite", "household", "2147483648"], "没有编号为 2147483648 的住户。"),
        (["invite", "household", "-1"], "没有编号为 -1 的住户。"),
        (["grant", "admin", "99999999999999999999", "--scope", "community:1"], "99999999999999999999 不是 Telegram 用户编号。"),
    ],
)
def test_ids_beyond_the_databases_integers_are_refused_politely(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], error: str) -> None:
    imported(capsys, write_csv(tmp_path / "h.csv", ROWS))
    assert fails_with(capsys, argv) == error  # SQLite itself would fail on numbers past 2^63


def test_an_unexpected_error_is_one_line_and_its_traceback_is_for_verbose(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(session: object) -> list[places.PlaceNode]:
        raise RuntimeError("the disk is full\nsecond line")

    monkeypatch.setattr(places, "list_places", broken)
    assert fails_with(capsys, ["places"]) == "出错了：the disk is full；加上 --verbose 再运行可查看详情。"
    assert main(["--verbose", "places"]) == 1
    error = capsys.readouterr().err
    assert "Traceback" in error and error.splitlines()[-1] == "出错了：the disk is full；加上 --verbose 再运行可查看详情。"


def run_cli(*args: str, database: Path) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "GONGJIAN_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=database.parent, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_no_library_logging_unless_verbose(tmp_path: Path) -> None:
    quiet = run_cli("db", "upgrade", database=tmp_path / "quiet.db")
    out, err = quiet.communicate(timeout=60)
    assert (quiet.returncode, out.decode().strip(), err.decode()) == (0, "数据库已是最新。", "")
    verbose = run_cli("--verbose", "db", "upgrade", database=tmp_path / "verbose.db")
    assert "Running upgrade" in verbose.communicate(timeout=60)[1].decode()  # alembic's INFO lines: they are there to hide


def test_output_piped_into_head_ends_with_one_line_and_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str], database: Path) -> None:
    rows = [[*PATH, f"{b}栋", f"{u}单元", str(f), f"{f}0{d}", "60"] for b in range(1, 21) for u in (1, 2) for f in range(1, 7) for d in range(1, 9)]
    imported(capsys, write_csv(tmp_path / "h.csv", rows))  # 1,920 households: more than a pipe holds
    listing = run_cli("places", database=database)  # as `gongjian places | head -1`
    assert listing.stdout is not None and listing.stdout.readline().decode().startswith("区县 #1")
    listing.stdout.close()
    assert listing.wait(timeout=60) == cli.EXIT_FAILED
    assert listing.stderr is not None and listing.stderr.read().decode().splitlines() == ["输出还没写完就被关闭了（例如被 head 或分页程序关闭）。"]


def test_run_without_a_token_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "GONGJIAN_BOT_TOKEN" in error[0] and "gongjian demo" in error[0]


def test_db_upgrade(capsys: pytest.CaptureFixture[str], database: Path) -> None:
    assert main(["db", "upgrade"]) == 0
    assert database.exists() and "最新" in capsys.readouterr().out


def test_settings_are_read_from_a_dot_env_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    imported(capsys, write_csv(tmp_path / "h.csv", ROWS))
    (tmp_path / ".env").write_text("GONGJIAN_BOT_USERNAME=from_dot_env_bot\n", encoding="utf-8")  # the working folder
    building = place_id(capsys, "building", "1栋")
    assert main(["invite", "building", str(building), "--out", str(tmp_path / "qr.png")]) == 0
    assert "https://t.me/from_dot_env_bot?start=" in capsys.readouterr().out
