"""Every `yibao` subcommand given bad input fails cleanly: a non-zero exit, a short message that says
what is wrong (Chinese, or typer's own usage message for a malformed option), and no traceback or
uncaught exception. Good input exits 0. The command list is read from the real typer app, and a
test fails when a command appears that this table does not cover, so new commands get checked.

Commands run in-process through typer's CliRunner (fast); one smoke test runs the console script as
a child process to prove the real entry point prints no traceback either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
from qa_support import cli_env, has_cjk, run_yibao
from typer.testing import CliRunner

from bot import clock
from bot.cli import app
from bot.settings import get_settings

# ------------------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    why: str  # what is wrong with the input
    env: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return " ".join(self.args)


GOOD_TOKEN = "123456789:AAEexampleexampleexampleexample1234"  # well-formed, never valid at Telegram


def case(line: str, why: str, **env: str) -> Case:
    return Case(tuple(line.split()), why, tuple(env.items()))


BAD = [
    # policy
    case("policy show nowhere", "unknown locality"),
    case("policy show wuhe --year 1999", "no pack for the year"),
    case("policy amount nowhere", "unknown locality"),
    case("policy amount wuhe --category 外星人", "unknown category"),
    case("policy amount wuhe --birth-date 2023-13-45", "bad date"),
    case("policy amount wuhe --birth-date 2030-01-01 --on 2023-11-20", "born after the date asked about"),
    case("policy amount wuhe --on notadate", "bad date"),
    case("policy amount wuhe --age -3", "negative age"),
    case("policy deadline nowhere", "unknown locality"),
    case("policy deadline wuhe --on 2023-02-29", "no such day"),
    case("policy deadline wuhe --newborn-birth 20231301", "bad date"),
    case("policy benefit-start wuhe --paid 2023-02-30", "no such day"),
    case("policy benefit-start wuhe", "missing --paid"),
    case("policy benefit-start wuhe --paid 2024-03-15 --special alien", "unknown --special reason"),
    case("policy eligibility nowhere", "unknown locality"),
    case("policy eligibility wuhe --student kindergarten", "unknown student kind"),
    case("policy refund wuhe --reason boredom", "unknown refund reason"),
    case("policy refund nowhere --reason death", "unknown locality"),
    case("policy check missing.yaml", "missing file"),
    case("policy check broken.yaml", "malformed pack (not YAML)"),
    case("policy check partial.yaml", "malformed pack (fields missing)"),
    case("policy check empty.yaml", "malformed pack (empty)"),
    case("policy new nowhere --year 2025 --source notice.txt", "unknown locality"),
    case("policy new wuhe --year 2020 --source notice.txt", "year not after the newest pack"),
    case("policy new wuhe --year 2025 --source missing.txt", "missing source"),
    case("policy new wuhe --year 2025 --source binary.csv", "source is not text"),
    case("policy new wuhe --source binary.csv", "missing --year"),
    case("policy status --on 2026-13-01", "bad date"),
    case("policy check wuhe-2024-bigint/wuhe-2024.yaml", "a 5,000-digit integer"),
    case("policy check wuhe-2024-gbk/wuhe-2024.yaml", "GBK-encoded pack"),
    case("policy check nested.yaml", "50,000 nested brackets"),
    case("policy check wuhe-2024-escape/wuhe-2024.yaml", "source escapes the sources folder with ../"),
    case("policy check wuhe-2024-absolute/wuhe-2024.yaml", "source is an absolute path"),
    case("policy check wuhe-2024-alias/wuhe-2024.yaml", "YAML alias bomb"),
    # registry
    case("status 123 张三", "bad ID (length)"),
    case("status abc 张三", "bad ID (characters)"),
    case("status 34032219500301001X 张三", "bad ID (check digit)"),
    case("demo-data --locality nowhere", "unknown locality"),
    case("demo-data --locality wuhe --scale -1", "negative scale"),
    case("history import missing.csv", "missing file"),
    case("history import nocols.csv", "no header"),
    case("history import binary.csv", "binary garbage"),
    # importers
    case("import roster missing.csv --locality wuhe -q", "missing file"),
    case("import roster empty.csv --locality wuhe -q", "empty file"),
    case("import roster nocols.csv --locality wuhe -q", "no header"),
    case("import roster old.xls --locality wuhe -q", "old Excel"),
    case("import roster fake.xlsx --locality wuhe -q", "not really XLSX"),
    case("import roster binary.csv --locality wuhe -q", "binary garbage"),
    case("import roster nocols.csv --locality nowhere -q", "unknown locality"),
    case("import payments missing.csv --year 2024 -q", "missing file"),
    case("import payments nocols.csv --year 2024 -q", "no header"),
    case("import payments nocols.csv --year 1800 -q", "implausible year"),
    case("import payments nocols.csv --year abc -q", "year not a number"),
    # staff
    case("staff invite --role king --locality wuhe", "bad role"),
    case("staff invite --role cadre", "cadre without a village"),
    case("staff invite --role cadre --village 不存在村", "unknown village"),
    case("staff invite --role town-official --town 不存在镇 --locality wuhe", "unknown town"),
    case("staff invite --role county-admin", "admin without a locality"),
    case("staff invite --role county-admin --locality nowhere", "unknown locality"),
    case("staff list --locality nowhere", "unknown locality"),
    # campaigns and outbox
    case("campaign list --locality nowhere", "unknown locality"),
    case("campaign show 99999", "unknown campaign"),
    case("campaign show abc", "campaign id not a number"),
    case("campaign pause 99999", "unknown campaign"),
    case("campaign resume 99999", "unknown campaign"),
    case("campaign run nowhere", "unknown locality"),
    case("outbox send --until-empty", "no BOT_TOKEN"),
    # bot
    case("chat --locality nowhere", "unknown locality"),
    case("chat --staff king --locality wuhe", "bad role"),
    case("chat --staff county-admin", "staff without a locality"),
    case("run", "no BOT_TOKEN"),
    case("run", "malformed BOT_TOKEN", BOT_TOKEN="garbage"),
    case("webhook", "malformed BOT_TOKEN", BOT_TOKEN="12345"),
    case("webhook --port 99999", "port out of range", BOT_TOKEN=GOOD_TOKEN),
    case("fake-api --port 70000", "port out of range"),
    case("webhook", "WEBHOOK_PORT out of range", BOT_TOKEN=GOOD_TOKEN, WEBHOOK_PORT="99999"),
    case("webhook", "WEBHOOK_SECRET too short", BOT_TOKEN=GOOD_TOKEN, WEBHOOK_SECRET="abc"),
    case("scheduler --bogus", "unknown option"),
    # channels (issue 15)
    case("wechat", "no WECHAT_TOKEN"),
    case("wechat", "WECHAT_AES_KEY not an EncodingAESKey", WECHAT_TOKEN="tok", WECHAT_AES_KEY="!" * 43),
    case("wechat", "安全模式 without WECHAT_APP_ID", WECHAT_TOKEN="tok", WECHAT_AES_KEY="a" * 43),
    case("wechat --port 70000", "port out of range", WECHAT_TOKEN="tok"),
    case("fake-wechat", "no WECHAT_TOKEN"),
    case("fake-sms --port 70000", "port out of range"),
    case("chat --channel line", "unknown channel"),
    case("chat --channel wechat --staff county-admin --locality wuhe", "staff features are Telegram's"),
    case("nosuchcommand", "unknown command"),
]

# Malformed packs from the red-team pass (issue 12): stricter than the other pack cases.
ISSUE_12_PACKS = {
    "a 5,000-digit integer", "GBK-encoded pack", "50,000 nested brackets", "source escapes the sources folder with ../",
    "source is an absolute path", "YAML alias bomb",
}

# Defects still open when this file was last committed (strict: the mark fails once they are fixed,
# so it gets removed then).
# (command id, why) -> reason: a defect still open, run as a strict xfail so fixing it flips the test.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


def _bad_params() -> list[object]:
    return [
        pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN_DEFECTS[(c.id, c.why)], strict=True))
        if (c.id, c.why) in KNOWN_DEFECTS else c
        for c in BAD
    ]


GOOD = [
    case("version", "version"),
    case("policy list", "packs"),
    case("policy show wuhe", "a pack"),
    case("policy amount wuhe --category 低保 --json", "the README's example"),
    case("policy deadline wuhe --migrant", "deadline"),
    case("policy benefit-start wuhe --paid 2024-03-15", "benefit start"),
    case("policy eligibility wuhe --student university", "eligibility"),
    case("policy refund wuhe --reason death", "refund"),
    case("policy check good.yaml", "a shipped pack copied"),
    case("policy status", "each locality's newest pack"),
    case("import roster roster.csv --locality wuhe -q", "the documented sample"),
    case("staff invite --role county-admin --locality wuhe", "an invite"),
    case("staff list", "posts"),
    case("campaign list", "campaigns"),
]

# Commands that take no input worth breaking. (run, webhook, scheduler, fake-api, outbox send and chat
# serve until stopped on good input, so GOOD does not run them; their bad input is in BAD.)
NO_BAD_INPUT = {"version", "policy list"}

# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    root = Path(__file__).resolve().parents[2]
    (tmp / "broken.yaml").write_text("locality: [unclosed\n", encoding="utf-8")
    (tmp / "partial.yaml").write_text("schema_version: 1\nlocality:\n  id: x\n", encoding="utf-8")
    (tmp / "empty.yaml").write_text("", encoding="utf-8")
    (tmp / "good.yaml").write_text(
        (root / "bot" / "policy" / "packs" / "wuhe-2024.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp / "good.yaml").rename(tmp / "wuhe-2024.yaml")
    _malformed_packs(tmp, root)
    (tmp / "empty.csv").write_text("", encoding="utf-8")
    (tmp / "nocols.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")
    (tmp / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    (tmp / "fake.xlsx").write_bytes(b"this is not a zip file")
    (tmp / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (tmp / "roster.csv").write_text(
        (root / "docs" / "samples" / "roster-sample.csv").read_text(encoding="utf-8-sig"), encoding="utf-8")
    return tmp


def _malformed_packs(tmp: Path, root: Path) -> None:
    """Copies of a shipped pack broken in the ways a red team tried (issue 12), each in its own
    folder so the file keeps its valid name and only the one fault is reported."""
    import os

    good = (root / "bot" / "policy" / "packs" / "wuhe-2024.yaml").read_text(encoding="utf-8")
    source = "001_eed7a0ad29b0fb7e.txt"
    assert f"source: {source}" in good and "value: 380," in good

    def write(name: str, text: str, encoding: str = "utf-8") -> None:
        (tmp / name).mkdir()
        (tmp / name / "wuhe-2024.yaml").write_text(text, encoding=encoding)

    write("wuhe-2024-bigint", good.replace("value: 380,", "value: " + "9" * 5000 + ",", 1))
    write("wuhe-2024-gbk", good, encoding="gbk")
    (tmp / "nested.yaml").write_text("locality: " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    # A copy of the seed outside the sources folder: with every quote present, a pack citing it
    # would pass the quote check, so only the path rule can refuse it.
    outside = tmp / "outside" / "seed.txt"
    outside.parent.mkdir()
    outside.write_text((root / "bot" / "policy" / "sources" / source).read_text("utf-8"), encoding="utf-8")
    escape = os.path.relpath(outside, root / "bot" / "policy" / "sources")
    assert escape.startswith("..")
    write("wuhe-2024-escape", good.replace(f"source: {source}", f"source: {escape}"))
    write("wuhe-2024-absolute", good.replace(f"source: {source}", f"source: {outside}"))
    bomb = "".join(f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9 if i else ["x"] * 9) + "]\n" for i in range(9))
    write("wuhe-2024-alias", bomb + good)


@pytest.fixture()
def cli(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """In the work dir (no project .env), its own SQLite file, a pinned day, no token; the root
    logger restored afterwards (bot commands call setup_logging, which replaces its handlers)."""
    env = cli_env(workdir)
    monkeypatch.chdir(workdir)
    for key in ("DATABASE_URL", "YIBAO_TODAY"):
        monkeypatch.setenv(key, env[key])
    for key in ("BOT_TOKEN", "STATUS_API_URL", "REDIS_URL", "TELEGRAM_API_BASE"):
        monkeypatch.delenv(key, raising=False)
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    clock.set_today(None)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
    root.handlers[:] = saved[1]
    root.setLevel(saved[0])


def _commands() -> set[str]:
    """Every leaf command of the real app, e.g. "policy amount", "status"."""
    found: set[str] = set()

    def walk(cmd: object, prefix: str) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            found.add(prefix)

    walk(typer.main.get_command(app), "")
    return found


def _command_of(c: Case, commands: set[str]) -> str | None:
    two = " ".join(c.args[:2])
    return two if two in commands else (c.args[0] if c.args[0] in commands else None)


def _invoke(cli: CliRunner, c: Case, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, BaseException | None]:
    for key, value in c.env:
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    result = cli.invoke(app, list(c.args))
    exc = result.exception if result.exception is not None and not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout + (result.stderr or ""), exc


# ------------------------------------------------------------------------------------ tests


def test_every_command_is_covered() -> None:
    """A command missing from this table is a command nobody checked for bad input."""
    commands = _commands()
    assert {"status", "policy amount", "import roster", "staff invite"} <= commands, commands
    covered = {_command_of(c, commands) for c in BAD} | NO_BAD_INPUT
    missing = sorted(commands - covered)
    assert not missing, f"commands without a bad-input case in tests/quality/test_cli_bad_input.py: {missing}"


@pytest.mark.parametrize("c", _bad_params(), ids=lambda c: f"{c.id} [{c.why}]")
def test_bad_input_fails_cleanly(cli: CliRunner, c: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    if _command_of(c, _commands()) is None and c.why != "unknown command":
        pytest.skip(f"`yibao {c.args[0]}` does not exist yet")
    code, output, exc = _invoke(cli, c, monkeypatch)
    assert exc is None, f"uncaught {type(exc).__name__}: {exc}\n{output}"
    assert "Traceback" not in output, output
    assert code != 0, f"bad input ({c.why}) exited 0:\n{output}"
    text = output.strip()
    assert text, "no message at all"
    if "Usage:" in text:
        # typer's own check of an option's type: names the option and the problem
        assert "Error" in text and ("Invalid value" in text or "No such" in text or "Missing" in text), text
        return
    lines = [line for line in text.splitlines() if line.strip()]
    if c.why in ISSUE_12_PACKS:
        # issue 12: one Chinese line naming the file, exit 1 (the check's "problems found" code)
        assert code == 1 and len(lines) == 1 and has_cjk(text), text[:2000]
        assert lines[0].split(": ")[0] in ("wuhe-2024.yaml", "nested.yaml"), lines[0][:300]
        assert len(lines[0]) <= 300, lines[0][:400]
        return
    if c.args[:2] == ("policy", "check"):
        # one problem a line, each naming the file (documented format "file: field: problem")
        assert all(":" in line for line in lines), text
        return
    assert has_cjk(text), f"the message is not in Chinese: {text}"
    assert len(lines) <= 2, f"a short message is expected, got {len(lines)} lines:\n{text}"


@pytest.mark.parametrize("c", GOOD, ids=lambda c: c.id)
def test_good_input_exits_zero(cli: CliRunner, c: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    if _command_of(c, _commands()) is None:
        pytest.skip(f"`yibao {c.args[0]}` does not exist yet")
    args = tuple("wuhe-2024.yaml" if a == "good.yaml" else a for a in c.args)
    code, output, exc = _invoke(cli, Case(args, c.why, c.env), monkeypatch)
    assert exc is None, f"uncaught {type(exc).__name__}: {exc}\n{output}"
    assert code == 0, output
    assert output.strip() and "Traceback" not in output


def test_readme_example_pays_60(cli: CliRunner) -> None:
    import json

    clock.set_today(None)
    result = cli.invoke(app, ["policy", "amount", "wuhe", "--category", "低保", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert float(data["personal"]) == 60 and data["citations"]


@pytest.mark.slow
def test_console_script_prints_no_traceback(workdir: Path) -> None:
    """The real entry point, as a child process: bad input gives one clean line on stderr."""
    env = cli_env(workdir)
    bad = run_yibao(["policy", "amount", "wuhe", "--category", "外星人"], env, workdir, timeout=120)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr + bad.stdout
    assert has_cjk(bad.stderr) and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    status = run_yibao(["status", "34032219500301001X", "张三"], env, workdir, timeout=120)
    assert status.returncode != 0 and "Traceback" not in status.stderr + status.stdout
    assert "校验码" in status.stderr, status.stderr


@pytest.mark.slow
@pytest.mark.parametrize("command", ["fake-api", "webhook"])
def test_busy_port_fails_cleanly(workdir: Path, command: str) -> None:
    """A port another process holds (a second instance, a forgotten server): one clear line, no traceback."""
    import socket

    env = cli_env(workdir, BOT_TOKEN=GOOD_TOKEN, TELEGRAM_API_BASE="http://127.0.0.1:9",
                  WEBHOOK_SECRET="busy-port-test-secret-0123456789abcdef")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_yibao([command, "--port", str(port)], env, workdir, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output[-3000:]
    assert has_cjk(result.stderr) and str(port) in result.stderr, result.stderr
