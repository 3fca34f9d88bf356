"""Split the blind conversations into a development set and a held-out set, reproducibly.

Every conversation lives in exactly one of dev/<theme>.yaml and heldout/<theme>.yaml. This script reads
both, pools each theme, and deals a third of every theme to dev/ (random with a fixed seed, stratified by
theme so both sets cover every topic); the rest is held out. Running it again gives the same files, so a
conversation moved by hand (for instance a held-out one pulled into dev/ to tune against) shows up:
`python tests/conversations/split.py --check` exits 1 when the files differ from the split.

Adding a conversation: append it to either file of its theme and run the script; it lands where the
seed puts it. The blocks are copied verbatim (comments and quoting kept); each file is written with its
conversations in name order.

Usage: python tests/conversations/split.py [--check]
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent
DEV_DIR = ROOT / "dev"
HELDOUT_DIR = ROOT / "heldout"
SEED = 20231120  # fixed: the split must not change between runs
DEV_SHARE = 1 / 3

_BLOCK_START = re.compile(r"^  - name: *(\S+)", re.MULTILINE)
_TOP_KEY = "conversations:\n"


class SplitError(Exception):
    """A conversation file the splitter cannot read; the message says which and why."""


@dataclass(frozen=True)
class Theme:
    name: str
    header: str  # comment lines above `conversations:`, identical in both files of the theme
    blocks: dict[str, str]  # conversation name -> its YAML text, verbatim


def _read_file(path: Path) -> tuple[str, dict[str, str]]:
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition(_TOP_KEY)
    if not sep:
        raise SplitError(f"{path}: no top-level 'conversations:' key")
    starts = [m.start() for m in _BLOCK_START.finditer(body)]
    if body[: starts[0] if starts else len(body)].strip():
        raise SplitError(f"{path}: text between 'conversations:' and the first '  - name:'")
    blocks: dict[str, str] = {}
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(body)
        block = body[start:end].rstrip() + "\n"
        parsed = yaml.safe_load(_TOP_KEY + block)["conversations"]
        if len(parsed) != 1 or not isinstance(parsed[0], dict):
            raise SplitError(f"{path}: a block starting at '{block.splitlines()[0].strip()}' is not one conversation")
        name = parsed[0].get("name")
        if name in blocks:
            raise SplitError(f"{path}: conversation '{name}' appears twice")
        blocks[name] = block
    whole = yaml.safe_load(text)
    if len(whole["conversations"]) != len(blocks):
        raise SplitError(f"{path}: {len(whole['conversations'])} conversations parsed, {len(blocks)} blocks found")
    return head, blocks


def load_themes() -> dict[str, Theme]:
    """Pool dev/ and heldout/ by theme (file stem)."""
    heads: dict[str, str] = {}
    pooled: dict[str, dict[str, str]] = {}
    for directory in (HELDOUT_DIR, DEV_DIR):
        for path in sorted(directory.glob("*.yaml")):
            head, blocks = _read_file(path)
            theme = path.stem
            heads.setdefault(theme, head)
            if heads[theme] != head:
                raise SplitError(f"{path}: header comment differs from the other file of theme '{theme}'")
            bucket = pooled.setdefault(theme, {})
            for name, block in blocks.items():
                if name in bucket:
                    raise SplitError(f"{path}: conversation '{name}' is in both dev/ and heldout/")
                bucket[name] = block
    return {t: Theme(t, heads[t], pooled[t]) for t in sorted(pooled)}


def dev_names(theme: Theme) -> set[str]:
    """The conversations of a theme dealt to dev/: a seeded shuffle of the sorted names, first third."""
    names = sorted(theme.blocks)
    random.Random(f"{SEED}:{theme.name}").shuffle(names)
    return set(names[: round(len(names) * DEV_SHARE)])


def render(theme: Theme, names: list[str]) -> str:
    return theme.header + _TOP_KEY + "\n".join(theme.blocks[n] for n in sorted(names))


def planned_files() -> dict[Path, str]:
    """Every file the split should consist of, with its exact text."""
    files: dict[Path, str] = {}
    for theme in load_themes().values():
        dev = dev_names(theme)
        files[DEV_DIR / f"{theme.name}.yaml"] = render(theme, [n for n in theme.blocks if n in dev])
        files[HELDOUT_DIR / f"{theme.name}.yaml"] = render(theme, [n for n in theme.blocks if n not in dev])
    return files


def main(argv: list[str]) -> int:
    check = "--check" in argv
    try:
        files = planned_files()
    except (SplitError, yaml.YAMLError) as exc:
        print(f"对话文件读不了：{exc}", file=sys.stderr)
        return 2
    stale = sorted(p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text)
    if check:
        for path in stale:
            print(f"{path.relative_to(ROOT)}: differs from the seeded split (run tests/conversations/split.py)")
        return 1 if stale else 0
    DEV_DIR.mkdir(exist_ok=True)
    HELDOUT_DIR.mkdir(exist_ok=True)
    for path in stale:
        path.write_text(files[path], encoding="utf-8")
    counts = {d.name: sum(len(yaml.safe_load(t)["conversations"]) for p, t in files.items() if p.parent == d)
              for d in (DEV_DIR, HELDOUT_DIR)}
    print(f"dev {counts['dev']}, heldout {counts['heldout']}; {len(stale)} file(s) rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
