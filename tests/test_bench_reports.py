"""bench/reports.py's residents read the bot as a person does: a response of several messages
(the duplicate offer) is one answer, timed at its last message; the outbox's news and a second
answer are never taken for the answer to the next message; an apology is answered by trying
again. The benchmark's figures rest on this; the bot itself is not involved here."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.i18n import translate

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_reports", BENCH / "reports.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def zh(msgid: str, **params: object) -> str:
    return translate("zh_CN", msgid).format(**params)


def started(bench: ModuleType, *, echo: bool = False) -> tuple[object, object, object]:
    residents = bench.Residents(None, "", [7], ["3栋电梯坏了三天了"], echo=echo)
    phase = bench.Phase("test", 1, 1)
    resident = residents.people[7]
    residents.begin(resident, phase)
    resident.enqueued_at = 10.0
    return residents, phase, resident


def sent(residents: object) -> list[str]:
    return [text for _, text in residents.outgoing]  # type: ignore[attr-defined]


def test_a_duplicate_offer_is_one_answer_timed_at_its_last_message(bench: ModuleType) -> None:
    residents, phase, resident = started(bench)
    assert sent(residents) == ["/report 3栋电梯坏了三天了"]
    residents.read(resident, 10.2, zh("This sounds like: {category}. Tap it to confirm, or choose another kind.", category="电梯"), ["电梯", "供水", "其他"])
    assert sent(residents)[-1] == "电梯" and resident.state == bench.WAIT_OUTCOME
    resident.enqueued_at = 11.0
    residents.read(resident, 11.1, zh("A neighbour has already reported something similar:"), [])
    residents.read(resident, 11.2, zh("#{id} {category} · {status}: {text}", id=3, category="电梯", status="受理", text="电梯坏了"), [zh("Same problem (+1)")])
    assert sent(residents)[-1] == "电梯" and phase.latencies_ms == pytest.approx([200.0])
    residents.read(resident, 11.3, zh("If yours is a different problem:"), [bench.NEW_REPORT])
    assert sent(residents)[-1] == bench.NEW_REPORT and phase.duplicate_offers == 1
    assert phase.latencies_ms == pytest.approx([200.0, 300.0])
    resident.enqueued_at = 12.0
    # The outbox may tell the resident of an earlier report at any moment: no answer to anything.
    residents.read(resident, 12.05, zh("Report #{id} ({summary}) is now: {status}.", id=3, summary="电梯坏了", status="派单"), [])
    assert resident.state == bench.WAIT_OUTCOME and len(phase.latencies_ms) == 2
    residents.read(resident, 12.4, "谢谢\n" + zh("Report #{id} is saved (受理): {category}.", id=9, category="电梯"), [])
    assert residents.told == [9] and resident.state == bench.DONE and phase.finished.is_set()
    assert phase.latencies_ms == pytest.approx([200.0, 300.0, 400.0]) and not residents.unexpected
    residents.read(resident, 12.5, zh("Report #{id} ({summary}) is now: {status}.", id=9, summary="电梯坏了", status="派单"), [])
    assert len(phase.latencies_ms) == 3


async def test_an_apology_is_timed_and_answered_by_trying_again(bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "RETRY_S", 0.01)
    residents, phase, resident = started(bench)
    residents.read(resident, 10.5, bench.APOLOGY, [])
    assert phase.apologies == 1 and phase.latencies_ms == pytest.approx([500.0])
    await asyncio.sleep(0.05)
    assert sent(residents) == ["/report 3栋电梯坏了三天了"] * 2 and resident.state == bench.WAIT_PROPOSAL


def test_after_a_lost_answer_the_resident_finds_the_report_in_myreports(bench: ModuleType) -> None:
    residents, _, resident = started(bench)
    residents.told.append(4)  # an earlier report of theirs, already counted
    residents.read(resident, 10.1, "…", ["电梯", "其他"])
    residents.read(resident, 10.2, zh("This button is no longer valid. Send /help to start again."), [])
    assert sent(residents)[-1] == "/myreports"
    listing = "\n".join(zh("#{id} {category} · {status}: {text}", id=i, category="电梯", status="派单", text="电梯坏了") for i in (11, 4))
    residents.read(resident, 10.3, listing, ["#11 详情", "#4 详情"])
    assert residents.told == [4, 11] and residents.looked_up == 1 and resident.state == bench.DONE


def test_the_echo_bots_residents_send_two_messages(bench: ModuleType) -> None:
    residents, phase, resident = started(bench, echo=True)
    residents.read(resident, 10.001, "/report 3栋电梯坏了三天了", [])
    assert sent(residents)[-1] == bench.ECHO_SECOND_TEXT and phase.latencies_ms == pytest.approx([1.0])
    resident.enqueued_at = 10.01
    residents.read(resident, 10.013, bench.ECHO_SECOND_TEXT, [])
    assert resident.state == bench.DONE and phase.latencies_ms == pytest.approx([1.0, 3.0])
    residents.read(resident, 10.02, bench.ECHO_SECOND_TEXT, [])  # nothing more is counted once done
    assert len(phase.latencies_ms) == 2
