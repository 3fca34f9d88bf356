"""The architecture's rules (docs/architecture.md) as tests, read from the source with `ast`.

Data flows one way: Telegram update → handler → nlu → policy / registry → reply. So the lower
layers never import aiogram or handlers; the policy engine does no I/O per call; handlers never
broadcast (the scheduler's outbox does) and type no policy figure; "today" comes only from
`bot.clock`. Each rule walks the real tree, so a new module that breaks it fails here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LOWER_LAYERS = ("bot/policy", "bot/registry", "bot/nlu", "bot/reports", "bot/conversation")
# The app shell: the only part of bot/ that may know the messenger (it assembles and runs the bot).
APP_SHELL = ("bot/app.py", "bot/cli.py", "bot/terminal.py", "bot/commands")
PRODUCTION = ("bot", "handlers", "scheduler", "bench")


def _py_files(*roots: str) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        base = ROOT / root
        files.extend(sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts))
    return files


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, module) for every import, including ones inside functions (lazy imports count too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and _dotted(node.func) in {"__import__", "importlib.import_module", "import_module"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    return ""


def _is_module(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_scan_sees_the_tree() -> None:
    """Guard against a vacuous pass: the directories the rules speak of exist and hold code."""
    for root in (*LOWER_LAYERS, "handlers", "handlers/resident", "scheduler"):
        assert _py_files(root), f"{root} has no Python files: the layering rules would pass vacuously"


# --------------------------------------------------------------------------- lower layers


@pytest.mark.parametrize("layer", LOWER_LAYERS)
def test_lower_layers_know_nothing_of_telegram(layer: str) -> None:
    bad = [
        f"{_rel(p)}:{line} imports {mod}"
        for p in _py_files(layer)
        for line, mod in _imports(_tree(p))
        if _is_module(mod, "aiogram", "handlers", "bot.app", "bot.terminal", "scheduler.sender")
    ]
    assert not bad, f"{layer} must not depend on Telegram or handlers:\n" + "\n".join(bad)


def test_nothing_under_bot_but_the_app_shell_imports_aiogram() -> None:
    """A second channel (WeChat, SMS) is a sibling of handlers/, not a rewrite: the core, the policy,
    the registry and the NLU never import the Telegram library."""
    shell = [ROOT / p for p in APP_SHELL]
    bad = [
        f"{_rel(p)}:{line} imports {mod}"
        for p in _py_files("bot")
        if not any(p == s or s in p.parents for s in shell)
        for line, mod in _imports(_tree(p))
        if _is_module(mod, "aiogram", "handlers")
    ]
    assert not bad, "only the app shell may import aiogram or handlers:\n" + "\n".join(bad)


def test_the_core_is_scanned() -> None:
    assert _py_files("bot/conversation"), "bot/conversation has no Python files: the rule would pass vacuously"


# --------------------------------------------------------------------------- policy engine: no I/O per call

IO_MODULES = (
    "httpx", "requests", "aiohttp", "urllib", "socket", "sqlalchemy", "sqlmodel", "psycopg", "sqlite3",
    "redis", "bot.registry", "aiogram", "subprocess",
)
IO_CALLS = {"open", "urlopen"}
IO_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes", "open", "safe_load", "load"}


def _engine_files() -> list[Path]:
    base = ROOT / "bot" / "policy"
    files = sorted((base / "engine").rglob("*.py")) if (base / "engine").is_dir() else []
    files += sorted(base.glob("engine*.py"))
    return [p for p in files if "__pycache__" not in p.parts]


def test_policy_engine_files_exist() -> None:
    assert _engine_files(), "bot/policy/engine* not found: the no-I/O rule would pass vacuously"


@pytest.mark.parametrize("path", _engine_files(), ids=_rel)
def test_policy_engine_does_no_io(path: Path) -> None:
    """Packs are loaded (and cached) by bot.policy.loader; the engine computes from them only."""
    tree = _tree(path)
    bad = [f"{_rel(path)}:{line} imports {mod}" for line, mod in _imports(tree) if _is_module(mod, *IO_MODULES)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            file_like = name.split(".")[0] in {"yaml", "json", "Path", "pathlib", "path", "pack_path"}
            if name in IO_CALLS or (file_like and name.split(".")[-1] in IO_METHODS):
                bad.append(f"{_rel(path)}:{node.lineno} calls {name}()")
    assert not bad, "the policy engine must do no I/O per call:\n" + "\n".join(bad)


def test_policy_engine_answers_with_io_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """At call time, once packs are loaded: every public engine function answers with files and
    sockets made to fail. (The static scan above cannot see I/O hidden behind a helper.)"""
    import builtins
    import datetime as dt
    import io
    import socket

    from bot.policy import all_packs, engine
    from bot.policy.engine import Person

    packs = list(all_packs())
    assert packs
    people = [Person(), Person(categories=("dibao",), age=72), Person(migrant=True, birth_date=dt.date(1990, 2, 28))]

    def calls(loc: str) -> list[object]:
        on = dt.date(2023, 11, 20)
        out: list[object] = []
        for person in people:
            out += [
                engine.amount(loc, person, on), engine.deadline(loc, person, on),
                engine.benefit_start(loc, person, dt.date(2024, 3, 15)), engine.eligibility(loc, person, on),
                engine.refund(loc, person, on, "death"),
            ]
        out += [engine.payment_info(loc, on), engine.contacts(loc, None, on), engine.summary(loc, on)]
        return out

    warm = {p.locality.id: calls(p.locality.id) for p in packs}  # loads and caches packs, vocabulary

    def forbidden(*args: object, **kwargs: object) -> object:
        raise AssertionError(f"I/O at call time: {args[:1]!r}")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(io, "open", forbidden)
    monkeypatch.setattr(Path, "read_text", forbidden)
    monkeypatch.setattr(Path, "read_bytes", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    again = {loc: calls(loc) for loc in warm}
    monkeypatch.undo()
    for loc, answers in again.items():
        assert [a.to_json() for a in answers] == [a.to_json() for a in warm[loc]], loc


# --------------------------------------------------------------------------- handlers: no broadcasts

SEND_METHODS = {
    "send_message", "send_document", "send_photo", "send_media_group", "copy_message", "forward_message",
    "copy_messages", "forward_messages", "send_video", "send_audio", "send_voice",
}


def _sends_in_loops(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    loops = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
    for loop in ast.walk(tree):
        if not isinstance(loop, loops):
            continue
        for node in ast.walk(loop):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in SEND_METHODS:
                found.append((node.lineno, _dotted(node.func)))
            # asyncio.gather(*(bot.send_message(...) for ...)) is caught by the GeneratorExp above
    return sorted(set(found))


def test_handlers_never_import_the_sender() -> None:
    bad = [
        f"{_rel(p)}:{line} imports {mod}"
        for p in _py_files("handlers")
        for line, mod in _imports(_tree(p))
        if _is_module(mod, "scheduler.sender")
    ]
    assert not bad, "handlers must leave broadcasts to the scheduler's outbox:\n" + "\n".join(bad)


def test_handlers_never_send_in_loops() -> None:
    """A reply answers one update; a loop of send_* calls is a broadcast in disguise."""
    bad = [f"{_rel(p)}:{line} {call}() inside a loop" for p in _py_files("handlers") for line, call in
           _sends_in_loops(_tree(p))]
    assert not bad, "handlers must not broadcast (enqueue into scheduler.outbox instead):\n" + "\n".join(bad)


def test_send_in_loop_detector_works() -> None:
    """The detector itself must be able to fail (honest tests)."""
    sample = ast.parse(
        "async def h(bot, ids):\n"
        "    for i in ids:\n"
        "        await bot.send_message(i, 'x')\n"
        "    await asyncio.gather(*(bot.send_photo(i, p) for i in ids))\n"
    )
    assert [line for line, _ in _sends_in_loops(sample)] == [3, 4]


# --------------------------------------------------------------------------- handlers: no policy figures

AMOUNT_KEYS = {"value", "amount", "personal", "total", "subsidy", "government", "yuan"}
AMOUNT_SECTIONS = {"financing", "categories"}


def _pack_amounts() -> set[int]:
    """Integer yuan amounts of three or more digits found in the packs' money sections."""
    amounts: set[int] = set()

    def walk(node: object, section: str, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, section or str(k), str(k))
        elif isinstance(node, list):
            for v in node:
                walk(v, section, key)
        elif section in AMOUNT_SECTIONS and key in AMOUNT_KEYS and not isinstance(node, bool):
            try:
                d = Decimal(str(node))
            except (InvalidOperation, ValueError):
                return
            if d == d.to_integral_value() and d >= 100:
                amounts.add(int(d))

    for pack in sorted((ROOT / "bot" / "policy" / "packs").glob("*.yaml")):
        walk(yaml.safe_load(pack.read_text(encoding="utf-8")), "", "")
    return amounts


def test_pack_amounts_found() -> None:
    amounts = _pack_amounts()
    # Every seed states an individual contribution of 3 digits (e.g. 五河 380); none found = broken scan.
    assert len(amounts) >= 4, f"too few pack amounts found ({sorted(amounts)}): the heuristic is broken"


_NUMBER_IN_TEXT = re.compile(r"(?<![0-9.])([0-9]{3,})(?![0-9])")


def _number_literals(tree: ast.AST) -> Iterator[tuple[int, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, int) and not isinstance(node.value, bool):
                yield node.lineno, node.value
            elif isinstance(node.value, float) and node.value.is_integer():
                yield node.lineno, int(node.value)
            elif isinstance(node.value, str):
                for m in _NUMBER_IN_TEXT.finditer(node.value):
                    yield node.lineno, int(m.group(1))


def test_resident_handlers_type_no_policy_amounts() -> None:
    amounts = _pack_amounts()
    bad = [
        f"{_rel(p)}:{line} literal {value} equals a pack amount"
        for p in _py_files("handlers/resident")
        for line, value in _number_literals(_tree(p))
        if value in amounts
    ]
    assert not bad, "every figure in a reply must come from the policy engine:\n" + "\n".join(bad)


# --------------------------------------------------------------------------- the one clock

CLOCK_ALLOWED = {"bot/clock.py"}
# The fake Bot API plays Telegram's own server, whose message dates are the real wall clock; the
# bot never reads them as "today" (see test below). It is allowed time.time() for those stamps.
TIME_AS_DATE_ALLOWED = {"bot/fakeapi/server.py"}


def _clock_calls(tree: ast.AST) -> Iterator[tuple[int, str]]:
    date_names = {"date", "datetime"}
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "datetime":
            for a in node.names:
                if a.name in date_names:
                    aliases[a.asname or a.name] = a.name
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        attr = node.func.attr
        owner = _dotted(node.func.value)
        last = owner.split(".")[-1]
        is_date_type = last in date_names or owner in aliases
        if is_date_type and attr in {"today", "now", "utcnow"}:
            yield node.lineno, f"{owner}.{attr}()"
        if is_date_type and attr in {"fromtimestamp", "utcfromtimestamp"}:
            yield node.lineno, f"{owner}.{attr}()"
        if owner == "time" and attr in {"localtime", "gmtime", "strftime", "ctime"}:
            yield node.lineno, f"time.{attr}()"


def _time_as_date(source: str) -> Iterator[tuple[int, str]]:
    for n, line in enumerate(source.splitlines(), 1):
        code = line.split("#", 1)[0]
        if "time.time()" in code and re.search(r"date|day|today", code, re.IGNORECASE):
            yield n, line.strip()


@pytest.mark.parametrize("root", PRODUCTION)
def test_today_only_from_bot_clock(root: str) -> None:
    bad: list[str] = []
    for p in _py_files(root):
        rel = _rel(p)
        if rel in CLOCK_ALLOWED:
            continue
        source = p.read_text(encoding="utf-8")
        bad += [f"{rel}:{line} {call}" for line, call in _clock_calls(ast.parse(source))]
        if rel not in TIME_AS_DATE_ALLOWED:
            bad += [f"{rel}:{line} time.time() used as a date: {text}" for line, text in _time_as_date(source)]
    assert not bad, "read today/now from bot.clock only:\n" + "\n".join(bad)


def test_clock_detector_works() -> None:
    sample = ast.parse(
        "import datetime as dt\nfrom datetime import date as D\n"
        "a = dt.date.today()\nb = dt.datetime.now(tz)\nc = D.today()\nd = clock.today()\n"
    )
    assert [line for line, _ in _clock_calls(sample)] == [3, 4, 5]
    assert [n for n, _ in _time_as_date("x = 1\nmsg = {'date': int(time.time())}\n")] == [2]


def test_handlers_do_not_take_today_from_telegram_dates() -> None:
    """Message dates come from Telegram's (or the fake's) real clock; YIBAO_TODAY pins only bot.clock."""
    bad = []
    for p in _py_files("handlers"):
        for node in ast.walk(_tree(p)):
            if isinstance(node, ast.Attribute) and node.attr == "date" and isinstance(node.value, ast.Attribute) \
                    and node.value.attr in {"message", "edited_message"}:
                bad.append(f"{_rel(p)}:{node.lineno} {_dotted(node)}")
            if isinstance(node, ast.Attribute) and node.attr == "date" and _dotted(node.value) in {
                "message", "msg", "query.message", "event"
            }:
                bad.append(f"{_rel(p)}:{node.lineno} {_dotted(node)}")
    assert not bad, "use bot.clock, not the update's date:\n" + "\n".join(bad)
