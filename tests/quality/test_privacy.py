"""Privacy, end to end: no full ID number reaches a log, stdout/stderr, an error message, an error
report, an audit row or a staff file — driven through the real code paths with generated numbers.

The world (module fixture): a temp SQLite registry for 五河 filled by `yibao import roster` and
`yibao import payments` (files with good and bad rows), then `yibao status` (found, wrong name,
invalid, 15-digit legacy), then two real `yibao chat` processes (a resident checking status several
ways, a county admin asking /unpaid and /progress). Everything they print, log or write is kept and
grepped for each full number used; the masked form `3403**********0016` must appear instead.

Logs are captured twice: in-process with a handler that has NO masking filter (what call sites
themselves log), and from the chat children at LOG_LEVEL=DEBUG through `bot.logs.setup_logging`.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from qa_support import (
    YIBAO,
    ListHandler,
    cli_env,
    expected_mask,
    leaks,
    legacy15,
    make_id,
    wrong_check,
)
from typer.testing import CliRunner

from bot.cli import app
from bot.registry import ids
from bot.settings import get_settings

pytestmark = pytest.mark.slow

REGION = "340322"  # 五河县
HEAD = make_id(REGION, "19500301", "001")  # 低保, unpaid head of household Q001
SPOUSE = make_id(REGION, "19520715", "002")  # paid 380 → enrolled
CHILD = make_id(REGION, "20010210", "003")  # unpaid, own household (XLSX lists them)
MIGRANT = make_id(REGION, "19800808", "005")  # unpaid migrant
FULLWIDTH_TYPED = make_id(REGION, "19650412", "007")  # registered; the chat types it full-width, spaced
BAD_CHECK = wrong_check(make_id(REGION, "19601111", "004"))  # invalid: check digit
DUP = make_id(REGION, "19700101", "006")  # twice in the roster with two names
NOT_IN_ROSTER = make_id(REGION, "19750505", "008")
BAD_DATE = make_id(REGION, "19991340", "123")  # right check digit, month 13: invalid birth date
LEGACY = legacy15(HEAD)  # the 15-digit legacy form of HEAD

REGISTERED = [HEAD, SPOUSE, CHILD, MIGRANT, FULLWIDTH_TYPED, DUP]
ALL_NUMBERS = [*REGISTERED, BAD_CHECK, NOT_IN_ROSTER, BAD_DATE, LEGACY]

ROSTER = "\n".join([
    "身份证号,姓名,户号,与户主关系,乡镇,村（社区）,联系电话,资助类别,外出务工",
    f"{HEAD},赵测一,Q001,户主,城关镇,测试村,13900000001,低保对象,否",
    f"{SPOUSE},钱测二,Q001,配偶,城关镇,测试村,,,否",
    f"{CHILD},孙测三,Q002,户主,头铺镇,测二村,13900000003,,否",
    f"{MIGRANT},李测五,Q003,户主,头铺镇,测二村,13900000005,,是",
    f"{FULLWIDTH_TYPED},周测七,Q004,户主,城关镇,测试村,,,否",
    f"{BAD_CHECK},吴测四,Q005,户主,城关镇,测试村,,,否",
    f"{DUP},郑测六,Q006,户主,城关镇,测试村,,,否",
    f"{DUP},王测六,Q006,配偶,城关镇,测试村,,,否",
    f"{BAD_DATE},冯测九,Q007,户主,城关镇,测试村,,,否",
    f"{make_id(REGION, '19810101', '009')},陈测十,Q008,户主,不存在镇,某村,,,否",
    # an ID-shaped number in a free-text cell must be scrubbed in the report too
    f"{make_id(REGION, '19820202', '010')},褚测十一,Q009,户主,城关镇,测试村,{HEAD},外星人,否",
]) + "\n"

PAYMENTS = "\n".join([
    "身份证号,姓名,缴费日期,缴费金额,缴费渠道",
    f"{SPOUSE},钱测二,2023-10-08,380,微信",
    f"{NOT_IN_ROSTER},蒋测八,2023-10-09,380,微信",
    f"{CHILD},错名字,2023-10-09,380,微信",
    f"{BAD_CHECK},吴测四,2023-10-09,380,微信",
    f"{MIGRANT},李测五,2023-10-09,12345,微信",
]) + "\n"

RESIDENT_LINES = [
    f"{HEAD} 赵测一",  # found, unpaid
    f"{SPOUSE} 错名",  # wrong name: answered like "not found"
    f"{BAD_CHECK} 吴测四",  # invalid check digit
    f"{BAD_DATE} 冯测九",  # invalid birth date
    # full-width digits with spaces, as a phone keyboard may produce
    " ".join([FULLWIDTH_TYPED[:6], FULLWIDTH_TYPED[6:14], FULLWIDTH_TYPED[14:]]).translate(
        str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")) + " 周测七",
    "查询参保",
    CHILD,  # ID alone: the bot asks for the name
    "孙测三",
    "1",  # subscribe this person to reminders (consent stored)
    f"我的身份证是{LEGACY}，叫赵测一",  # 15-digit legacy number inside a sentence
    # issue 12: forms the transcript echoed in full (two spaces, dots, Arabic-Indic digits)
    f"{SPOUSE[:6]}  {SPOUSE[6:14]}  {SPOUSE[14:]} 钱测二",
    f"{HEAD[:6]}.{HEAD[6:14]}.{HEAD[14:]} 赵测一",
    HEAD.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + " 赵测一",
]
# 头铺镇 last: each /unpaid rewrites the same file name, and CHILD and MIGRANT live in 头铺镇
STAFF_LINES = ["/unpaid", "/unpaid 城关镇", "/progress", "/whoami", "/unpaid 头铺镇"]


@dataclass
class World:
    tmp: Path
    outputs: dict[str, str] = field(default_factory=dict)  # label -> everything printed
    logs: list[str] = field(default_factory=list)  # in-process records, unfiltered
    exit_codes: dict[str, int] = field(default_factory=dict)
    resident: subprocess.CompletedProcess[str] | None = None
    staff: subprocess.CompletedProcess[str] | None = None


def _invoke(world: World, label: str, args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    text = result.stdout + (result.stderr or "")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += f"\n{type(result.exception).__name__}: {result.exception}"
    world.outputs[label] = text
    world.exit_codes[label] = result.exit_code


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("privacy")
    w = World(tmp)
    (tmp / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp / "payments.csv").write_text(PAYMENTS, encoding="utf-8")
    env = cli_env(tmp)
    handler = ListHandler()
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)
        for key in ("DATABASE_URL", "YIBAO_TODAY", "LOG_LEVEL"):
            mp.setenv(key, env[key])
        mp.delenv("STATUS_API_URL", raising=False)
        get_settings.cache_clear()
        try:
            _invoke(w, "import roster", ["import", "roster", str(tmp / "roster.csv"), "--locality", "wuhe", "-q"])
            _invoke(w, "import payments", ["import", "payments", str(tmp / "payments.csv"), "--year", "2024",
                                           "--locality", "wuhe", "-q"])
            _invoke(w, "status found", ["status", HEAD, "赵测一"])
            _invoke(w, "status found json", ["status", SPOUSE, "钱测二", "--json"])
            _invoke(w, "status wrong name", ["status", SPOUSE, "别人"])
            _invoke(w, "status bad check", ["status", BAD_CHECK, "吴测四"])
            _invoke(w, "status bad date", ["status", BAD_DATE, "冯测九"])
            _invoke(w, "status legacy", ["status", LEGACY, "赵测一"])
            _invoke(w, "status lower x", ["status", HEAD.lower(), "赵测一"])
            # the county service configured but down: retries are logged, the answer says "try later"
            mp.setenv("STATUS_API_URL", "http://127.0.0.1:9/status")
            mp.setenv("STATUS_API_TIMEOUT", "0.5")
            get_settings.cache_clear()
            _invoke(w, "status service down", ["status", HEAD, "赵测一"])
            w.outputs["ids exceptions"] = _id_exception_messages()
        finally:
            get_settings.cache_clear()
            root.removeHandler(handler)
            root.setLevel(saved[0])
            w.logs = handler.lines
    # Two real chat processes (the console script, its own logging setup) against the same registry,
    # run side by side to keep the wall time down.
    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([str(YIBAO), "chat", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, cwd=tmp)

    resident = start("--locality", "wuhe")
    staff = start("--staff", "county-admin", "--locality", "wuhe", "--user-id", "20002")
    with ThreadPoolExecutor(2) as pool:
        r_future = pool.submit(resident.communicate, "\n".join(RESIDENT_LINES) + "\n", 240)
        s_future = pool.submit(staff.communicate, "\n".join(STAFF_LINES) + "\n", 240)
        r_out, r_err = r_future.result()
        s_out, s_err = s_future.result()
    w.resident = subprocess.CompletedProcess(resident.args, resident.returncode, r_out, r_err)
    w.staff = subprocess.CompletedProcess(staff.args, staff.returncode, s_out, s_err)
    yield w


def _id_exception_messages() -> str:
    """Messages of the exceptions the ID helpers raise for bad numbers (they end up in replies/logs)."""
    texts = []
    for bad in (BAD_CHECK, BAD_DATE, HEAD[:-1], HEAD + "1"):
        for fn in (ids.birth_date, ids.age_on, ids.sex):
            try:
                fn(bad)
            except Exception as exc:  # noqa: BLE001 - any exception type: its text is what matters
                texts.append(f"{type(exc).__name__}: {exc}")
    from sqlmodel import Session

    from bot.registry.db import open_db
    from bot.registry.lookup import status

    with Session(open_db()) as session:
        for bad in (BAD_CHECK, BAD_DATE, "abc"):
            try:
                texts.append(repr(status(session, bad, "某人")))
            except Exception as exc:  # noqa: BLE001
                texts.append(f"{type(exc).__name__}: {exc}")
        texts.append(repr(status(session, HEAD, "赵测一")))
        texts.append(repr(_check()))
    return "\n".join(texts)


def _check() -> object:
    from bot.registry.status_service import ServiceUnavailable, check_status

    try:
        return check_status(SPOUSE, "钱测二")
    except ServiceUnavailable as exc:
        return f"ServiceUnavailable: {exc} {exc.message_zh}"


def _bot_side(transcript: str) -> str:
    """The chat transcript without the echo of what the user typed ("您：…" lines)."""
    return "\n".join(line for line in transcript.splitlines() if not line.startswith("您："))


# ------------------------------------------------------------------------------------ the tests


def test_generated_numbers_are_what_the_test_means() -> None:
    for number in REGISTERED:
        assert ids.validate(number).ok, number
    assert not ids.validate(BAD_CHECK).ok and not ids.validate(BAD_DATE).ok
    assert ids.validate(LEGACY).number == HEAD
    assert leaks(f"x {HEAD} y", [HEAD]) == [HEAD]
    assert leaks(f"{HEAD[:6]} {HEAD[6:14]}-{HEAD[14:]}", [HEAD]) == [HEAD]
    assert leaks(HEAD.translate(str.maketrans("0123456789", "０１２３４５６７８９")), [HEAD]) == [HEAD]
    assert leaks(expected_mask(HEAD), [HEAD]) == []


def test_mask_is_the_documented_format() -> None:
    for number in ALL_NUMBERS:
        assert ids.mask(number) == expected_mask(ids.normalize(number))
    assert ids.mask(HEAD.lower()) == expected_mask(HEAD)
    assert ids.mask(HEAD[:6]) == "******"  # a fragment never shows more than 8 characters


def test_commands_ran(world: World) -> None:
    """The paths were really exercised (otherwise the leak checks below would be vacuous)."""
    assert world.exit_codes["import roster"] == 1, world.outputs["import roster"]  # bad rows reported
    assert world.exit_codes["import payments"] == 1, world.outputs["import payments"]
    assert world.exit_codes["status found"] == 0, world.outputs["status found"]
    assert world.exit_codes["status legacy"] == 0, world.outputs["status legacy"]
    assert world.exit_codes["status wrong name"] == 1
    assert world.exit_codes["status bad check"] != 0 and world.exit_codes["status bad date"] != 0
    assert world.exit_codes["status service down"] != 0
    assert world.resident is not None and world.resident.returncode == 0, world.resident.stderr[-2000:]
    assert world.staff is not None and world.staff.returncode == 0, world.staff.stderr[-2000:]


@pytest.mark.parametrize("label", [
    "import roster", "import payments", "status found", "status found json", "status wrong name",
    "status bad check", "status bad date", "status legacy", "status lower x", "status service down",
    "ids exceptions",
])
def test_cli_output_and_errors_hold_no_full_id(world: World, label: str) -> None:
    text = world.outputs[label]
    assert text.strip(), f"{label} printed nothing"
    assert not leaks(text, ALL_NUMBERS), f"{label} printed a full ID:\n{text}"


def test_cli_status_shows_the_mask(world: World) -> None:
    assert expected_mask(HEAD) in world.outputs["status found"]
    assert expected_mask(SPOUSE) in world.outputs["status wrong name"]
    assert expected_mask(HEAD) in world.outputs["status legacy"]
    assert f'"masked_id": "{expected_mask(SPOUSE)}"' in world.outputs["status found json"]


def test_in_process_logs_hold_no_full_id(world: World) -> None:
    """Records as the call sites emit them, before any masking filter."""
    assert world.logs, "nothing was logged at DEBUG: the capture is not working"
    bad = [line for line in world.logs if leaks(line, ALL_NUMBERS)]
    assert not bad, "log records with a full ID:\n" + "\n".join(bad[:10])


def test_chat_replies_and_logs_hold_no_full_id(world: World) -> None:
    assert world.resident is not None and world.staff is not None
    for proc in (world.resident, world.staff):
        replies = _bot_side(proc.stdout)
        assert not leaks(replies, ALL_NUMBERS), f"bot replies with a full ID:\n{replies}"
        assert not leaks(proc.stderr, ALL_NUMBERS), f"chat logs (LOG_LEVEL=DEBUG) with a full ID:\n{proc.stderr}"


def test_chat_answers_with_masked_ids(world: World) -> None:
    assert world.resident is not None
    out = world.resident.stdout
    for number in (HEAD, SPOUSE, FULLWIDTH_TYPED, CHILD):
        assert expected_mask(number) in out, f"{expected_mask(number)} not in the transcript:\n{out}"
    assert "校验码" in out and "出生日期" in out  # the invalid numbers got their reasons
    assert "（已删除您含身份证号的消息）" in out


def test_chat_transcript_does_not_echo_a_deleted_id(world: World) -> None:
    """Piped input is echoed as "您：…" so the transcript reads as a dialogue; the bot says it deleted
    the message holding the ID, so the echo must not keep the number either (a transcript saved with
    `| tee` would otherwise hold every number typed)."""
    assert world.resident is not None
    echoed = [line for line in world.resident.stdout.splitlines() if line.startswith("您：")]
    assert echoed, "the transcript has no echo lines"
    bad = [line for line in echoed if leaks(line, ALL_NUMBERS)]
    assert not bad, "echoed user lines keep full ID numbers:\n" + "\n".join(bad)


def test_error_report_masks_ids(world: World) -> None:
    roster_report = world.tmp / "roster.csv.errors.csv"
    payments_report = world.tmp / "payments.csv.errors.csv"
    assert roster_report.exists() and payments_report.exists()
    for report in (roster_report, payments_report):
        text = report.read_text(encoding="utf-8-sig")
        assert not leaks(text, ALL_NUMBERS), f"{report.name} holds a full ID:\n{text}"
    roster_text = roster_report.read_text(encoding="utf-8-sig")
    assert expected_mask(BAD_CHECK) in roster_text, roster_text
    assert "王测六" in roster_text, "the second name for one ID is reported"
    assert expected_mask(NOT_IN_ROSTER) in payments_report.read_text(encoding="utf-8-sig")


def _db_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {t: con.execute(f'select * from "{t}"').fetchall() for t in tables}
    finally:
        con.close()


def test_audit_rows_hold_masked_ids_only(world: World) -> None:
    rows = _db_rows(world.tmp / "yibao.db")
    con = sqlite3.connect(world.tmp / "yibao.db")
    try:
        audit = con.execute("select actor, action, subject_masked, outcome from audit_log").fetchall()
    finally:
        con.close()
    subjects = {r[2] for r in audit if r[2]}
    assert {expected_mask(HEAD), expected_mask(SPOUSE)} <= subjects, audit
    assert any(r[0] != "cli" for r in audit), "the chat's lookups were not audited"
    for subject in subjects:
        assert re.fullmatch(r"[0-9]{4}\*{10}[0-9]{3}[0-9X]", subject), subject
    # No table but person (which must hold the number) keeps a full ID anywhere in any column.
    bad = [
        (table, row) for table, table_rows in rows.items() if table != "person"
        for row in table_rows if leaks(" ".join(map(str, row)), ALL_NUMBERS)
    ]
    assert not bad, f"full ID numbers stored outside person: {bad[:5]}"


def _xlsx_text(path: Path) -> str:
    """Every cell value of every sheet, plus the raw XML (a number could hide in metadata too)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    wb.close()
    with zipfile.ZipFile(path) as z:
        raw = [z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")]
    return "\n".join(cells + raw)


def test_staff_files_hold_masked_ids_only(world: World) -> None:
    xlsx = sorted(world.tmp.rglob("*.xlsx"))
    assert xlsx, f"/unpaid wrote no XLSX under {world.tmp}:\n{world.staff.stdout if world.staff else ''}"
    for path in xlsx:
        text = _xlsx_text(path)
        assert not leaks(text, ALL_NUMBERS), f"{path} holds a full ID"
    text = "\n".join(_xlsx_text(p) for p in xlsx)
    assert expected_mask(CHILD) in text and expected_mask(MIGRANT) in text, "unpaid people listed with the mask"


def test_no_file_written_holds_a_full_id(world: World) -> None:
    """Every file the commands and chats wrote (reports, charts, logs), except inputs and the DB."""
    skip = {"roster.csv", "payments.csv"}
    bad = []
    for path in world.tmp.rglob("*"):
        if not path.is_file() or path.name in skip or path.name.startswith("yibao.db"):
            continue
        data = _xlsx_text(path) if path.suffix == ".xlsx" else path.read_bytes().decode("utf-8", "replace")
        if leaks(data, ALL_NUMBERS):
            bad.append(str(path.relative_to(world.tmp)))
    assert not bad, f"files holding a full ID: {bad}"


async def test_error_guard_masks_ids_in_exception_logs(caplog: pytest.LogCaptureFixture) -> None:
    """A handler failing on input that holds an ID (an SQL error echoes its parameters, a pydantic
    error its input): the guard's log line, seen here without any masking filter, keeps no number."""
    from handlers.middlewares.errors import ErrorGuardMiddleware

    async def failing(event: object, data: dict[str, object]) -> None:
        try:
            raise KeyError(f"lookup of {HEAD} failed")
        except KeyError as inner:
            raise RuntimeError(f"[parameters: ('{SPOUSE}', '钱测二')]") from inner

    guard = ErrorGuardMiddleware()
    with caplog.at_level(logging.DEBUG):
        result = await guard(failing, object(), {})
    assert result is None
    logged = "\n".join(r.getMessage() + (str(r.exc_info) if r.exc_info else "") for r in caplog.records)
    assert "RuntimeError" in logged and "KeyError" in logged, logged
    assert not leaks(logged, ALL_NUMBERS), logged
    assert expected_mask(HEAD) in logged and expected_mask(SPOUSE) in logged
