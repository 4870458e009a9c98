"""Where each declaration of a stack file comes from: its lines, and the commit and pull request that
last changed them, read from git.

One `git blame` per stack file gives the commit of every line; the newest commit among an entry's
lines is the one that last changed the entry. Its pull request is read from commit messages as
GitHub writes them: a squash merge ends its subject with `(#123)`, a merge commit says `Merge pull
request #123 from ...` (the merge that brought the commit onto HEAD's first-parent line). A shallow clone
or a checkout that is not a git repository has no history: the report says so rather than name the
wrong commit.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cmp_to_key
from pathlib import Path

import yaml

from im_access.audit import declared_access
from im_access.config import ConfigurationError, parse_stack_config, read_namespace, read_stack_file

SQUASHED = re.compile(r"\(#([0-9]{1,9})\)\s*$")
MERGED = re.compile(r"^Merge pull request #([0-9]{1,9}) ")
NOT_COMMITTED = "0" * 40
PRINCIPAL_KEYS = ("name", "user", "group")
ENTRY_LISTS = ("im-access:operators", "im-access:grants")  # in the order declared_access reads them
GIT_TIMEOUT = 60


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    date: str  # YYYY-MM-DD, the author date
    subject: str
    pull_request: int | None
    time: int = 0  # committer time, seconds since the epoch

    @property
    def short(self) -> str:
        return self.sha[:10]


@dataclass(frozen=True)
class Declaration:
    """Where one principal's access is declared: the file, the line naming the principal, and the
    commit that last changed the entry (None with `history` saying why)."""

    path: str  # relative to the project
    line: int
    commit: Commit | None
    history: str = ""  # why there is no commit: not committed, no git history, ...

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


class History:
    """Reads a project's git history (or says why it cannot)."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.problem = ""
        self._commits: dict[str, Commit] = {}
        self._first_parents: set[str] | None = None
        top = self._git("rev-parse", "--show-toplevel")
        if top is None:
            self.problem = "not a git checkout: no history"
            return
        self.root = Path(top.strip())
        if (self._git("rev-parse", "--is-shallow-repository") or "").strip() == "true":
            self.problem = "shallow clone: history not fetched (check out with fetch-depth: 0)"

    def _git(self, *args: str) -> str | None:
        try:
            result = subprocess.run(
                ["git", "-C", str(self.project), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout if result.returncode == 0 else None

    def blame(self, path: Path) -> dict[int, str]:
        """The commit of each line (1-based) of a file as it is in the working tree."""
        out = self._git("blame", "--porcelain", "--", str(path.resolve()))
        if out is None:
            return {}
        lines: dict[int, str] = {}
        for row in out.splitlines():
            parts = row.split(" ")
            # A header line: <sha> <line in the original> <line in the final file> [<lines in group>]
            if len(parts) in (3, 4) and re.fullmatch(r"[0-9a-f]{40}", parts[0]) and parts[2].isdigit():
                lines[int(parts[2])] = parts[0]
        return lines

    def commit(self, sha: str) -> Commit:
        if sha not in self._commits:
            out = self._git("show", "-s", "--format=%H%x00%an%x00%ad%x00%ct%x00%s", "--date=short", sha) or ""
            full, author, date, time, subject = ([*out.rstrip("\n").split("\x00"), "", "", "", "", ""])[:5]
            pull_request = self._pull_request(sha, subject)
            self._commits[sha] = Commit(full or sha, author, date, subject, pull_request, int(time or 0))
        return self._commits[sha]

    def _pull_request(self, sha: str, subject: str) -> int | None:
        """The pull request named by the commit itself (squashed, or a merge), or by the merge that
        brought it onto HEAD's first-parent line: the oldest commit of that line that descends from it."""
        for pattern in (SQUASHED, MERGED):
            if match := pattern.search(subject):
                return int(match.group(1))
        if sha in self._main_line():
            return None  # committed on the branch itself, outside any pull request
        line = (self._git("rev-list", "--first-parent", "--ancestry-path", f"{sha}..HEAD") or "").split()
        if not line:
            return None
        merge_subject = (self._git("show", "-s", "--format=%s", line[-1]) or "").strip()
        match = MERGED.match(merge_subject) or SQUASHED.search(merge_subject)
        return int(match.group(1)) if match else None

    def _main_line(self) -> set[str]:
        if self._first_parents is None:
            self._first_parents = set((self._git("rev-list", "--first-parent", "HEAD") or "").split())
        return self._first_parents

    def is_ancestor(self, older: str, newer: str) -> bool:
        if older == newer:
            return True
        try:
            result = subprocess.run(
                ["git", "-C", str(self.project), "merge-base", "--is-ancestor", older, newer],
                capture_output=True,
                timeout=GIT_TIMEOUT,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return result.returncode == 0


def _entry_spans(path: Path) -> list[tuple[int, int, int]]:
    """(first line, last line, line naming the principal) of each operator, then each grant, 1-based."""
    root = yaml.compose(path.read_text())
    settings = next((value for key, value in getattr(root, "value", []) if key.value == "config"), None)
    by_key = {key.value: value for key, value in getattr(settings, "value", [])}
    spans = []
    for list_key in ENTRY_LISTS:
        for node in getattr(by_key.get(list_key), "value", []):
            naming = [k for k, _ in getattr(node, "value", []) if getattr(k, "value", None) in PRINCIPAL_KEYS]
            end = node.end_mark.line if node.end_mark.column else node.end_mark.line - 1  # 0-based, inclusive
            first = node.start_mark.line
            spans.append((first + 1, max(end, first) + 1, (naming[0] if naming else node).start_mark.line + 1))
    return spans


def declarations(
    project: Path, stack_files: Mapping[str, Path], history: History | None = None
) -> dict[tuple[str, tuple[str, str]], Declaration]:
    """(stack, declared key) -> where it is declared and who last changed it, for every stack file."""
    history = history or History(project)
    found: dict[tuple[str, tuple[str, str]], Declaration] = {}
    for stack, path in stack_files.items():
        try:
            config = parse_stack_config(stack, read_namespace(read_stack_file(path)), allow_past_expiry=True)
        except ConfigurationError:
            continue  # the audit has refused such a file already
        blame = {} if history.problem else history.blame(path)
        relative = _relative(path, project)
        for declared, (first, last, naming) in zip(declared_access(stack, config), _entry_spans(path), strict=False):
            commits = [blame[line] for line in range(first, last + 1) if line in blame]
            found[(stack, declared.key)] = _declaration(history, relative, naming, commits)
    return found


def _declaration(history: History, relative: str, line: int, commits: Sequence[str]) -> Declaration:
    if history.problem:
        return Declaration(relative, line, None, history.problem)
    if not commits:
        return Declaration(relative, line, None, "not in git history")
    if NOT_COMMITTED in commits:
        return Declaration(relative, line, None, "changed and not committed yet")

    # The last change: the commit that descends from the others; between commits of parallel branches,
    # the one committed last.
    def order(a: Commit, b: Commit) -> int:
        if history.is_ancestor(a.sha, b.sha):
            return -1
        if history.is_ancestor(b.sha, a.sha):
            return 1
        return (a.time > b.time) - (a.time < b.time)

    newest = max((history.commit(sha) for sha in set(commits)), key=cmp_to_key(order))
    return Declaration(relative, line, newest)


def _relative(path: Path, project: Path) -> str:
    try:
        return str(path.resolve().relative_to(project.resolve()))
    except ValueError:
        return path.name
