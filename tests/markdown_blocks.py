"""Fenced code blocks of README.md and docs/*.md, and the shell commands inside them.

A plain helper module for the documentation tests: no pytest fixtures. A block may be preceded
by one HTML comment that the tests read:

- `<!-- run-by: tests/test_x.py [.ci/run …] -->`: the block needs a long run or a server, and the
  named files run it (each command of the block occurs in one of them);
- `<!-- bi-recipe: NAME -->`: a BI tool's settings, opened by tests/test_bi_recipes.py.

Every other runnable block (bash, python, sql) is run by tests/test_readme_commands.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNNABLE = {"bash", "sh", "shell", "python", "sql"}
SHELL = {"bash", "sh", "shell"}
MARKER = re.compile(r"^<!--\s*(run-by|bi-recipe):\s*(.+?)\s*-->$")
HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language and text, and its marker."""

    path: Path
    line: int
    lang: str
    text: str
    run_by: tuple[str, ...] = ()
    recipe: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def documents() -> list[Path]:
    """README.md and every page under docs/."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a markdown file, with the marker on the line right before it."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            lang = line[3:].strip()
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            marker = MARKER.match(lines[i - 1].strip()) if i > 0 else None
            run_by: tuple[str, ...] = ()
            recipe = ""
            if marker and marker.group(1) == "run-by":
                run_by = tuple(marker.group(2).split())
            elif marker:
                recipe = marker.group(2)
            text = "\n".join(lines[i + 1 : end]) + "\n"
            found.append(Block(path, i + 1, lang, text, run_by, recipe))
            i = end + 1
        else:
            i += 1
    return found


def all_blocks() -> list[Block]:
    return [block for path in documents() for block in blocks(path)]


def shell_commands(text: str) -> list[str]:
    """The commands of a shell block, one string each: continuation lines joined, quoted strings
    and here-documents kept whole, comments dropped, blanks collapsed."""
    commands: list[str] = []
    current: list[str] = []
    quote = ""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        out = []
        j = 0
        while j < len(line):
            char = line[j]
            if quote:
                out.append(char)
                if char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
                out.append(char)
            elif char == "#" and (j == 0 or line[j - 1].isspace()):
                break
            else:
                out.append(char)
            j += 1
        piece = "".join(out).rstrip()
        if quote:
            current.append(piece + "\n")
            continue
        if piece.endswith("\\"):
            current.append(piece[:-1] + " ")
            continue
        current.append(piece)
        heredoc = HEREDOC.search("".join(current))
        if heredoc:
            while i < len(lines) and lines[i].strip() != heredoc.group(1):
                current.append("\n" + lines[i])
                i += 1
            i += 1
        command = " ".join("".join(current).split()) if not heredoc else "".join(current)
        current = []
        if command.strip():
            commands.append(command.strip())
    return commands


def normalised(text: str) -> str:
    """Blanks collapsed, for finding a command inside a test file."""
    return " ".join(text.split())
