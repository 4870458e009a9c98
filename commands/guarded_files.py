"""The files the guardrails execute, derived from the code itself so the list cannot drift.

What decides whether a change may land is more than `policy_pack/`: the pack imports `im_access`,
the preview command imports its own modules, and `make setup` runs scripts that install the
engine and the requirements. A one-line change in any of them can switch a rule off. This module
walks, without running anything:

- the Python imports (inside the repository) of the pack's entry point and of every module the
  Makefile's guarded targets run with `python -m`;
- the files those targets' recipes, and the scripts they run, name (scripts, requirement files,
  the engine pins, localcloud's seed), and the requirement files those include;
- the pack's whole folder (its manifest, config and break-glass exceptions are read by the pack),
  and the requirement files its own requirement file includes.

CODEOWNERS puts every one of them behind the security owners (tests/test_security_owners.py
checks it), and the preview summary says when a change touches any of them.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

PACK = "policy_pack"
PACK_ENTRY = f"{PACK}/__main__.py"
# The Makefile targets whose recipes run the guardrails: the engine install and the previews, and
# what hands the previews their cloud credentials.
GUARDED_TARGETS = ("setup", "preview", "preview-localcloud", "preview-report", "ci-credentials")
SKIPPED = ("__pycache__", ".git", ".venv", ".engine", ".tools", ".localcloud", "reports", "node_modules")
_PATH_TOKEN = re.compile(r"[A-Za-z0-9_./-]+")
_MODULE_FLAG = re.compile(r"-m\s+([A-Za-z_][A-Za-z0-9_.]*)")
_EDITABLE = re.compile(r"(?:^|\s)(?:-e|--editable)\s+([^\s;&|]+)")
_INCLUDE = re.compile(r"(?:^|\s)(?:-r|--requirement)\s+([^\s;&|]+)")


def _file(root: Path, relative: str) -> str | None:
    path = root / relative
    return relative if path.is_file() and not set(Path(relative).parts) & set(SKIPPED) else None


def _module_file(root: Path, module: str, search: Iterable[str]) -> str | None:
    """The repository file of a module, looked up in the search folders (`""` is the root)."""
    parts = module.split(".")
    for folder in search:
        base = "/".join(p for p in (folder, *parts) if p)
        found = _file(root, f"{base}.py") or _file(root, f"{base}/__init__.py")
        if found:
            return found
    return None


def _imports(root: Path, relative: str) -> set[str]:
    """Module names a file imports (relative imports resolved), each with its parent packages."""
    try:
        tree = ast.parse((root / relative).read_text(), relative)
    except (SyntaxError, ValueError, RecursionError, MemoryError, UnicodeDecodeError):
        return set()  # a file that does not parse imports nothing; its own change is still seen
    package = relative.rsplit("/", 1)[0].replace("/", ".") if "/" in relative else ""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {".".join(name.split(".")[:i]) for name in names if name for i in range(1, len(name.split(".")) + 1)}


def python_closure(root: Path, entries: Iterable[str], search: Iterable[str] = ("", PACK)) -> set[str]:
    """Every repository file the entry files import, directly or not."""
    search = tuple(search)
    found: set[str] = set()
    todo = [entry for entry in entries if _file(root, entry)]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        for module in _imports(root, current):
            target = _module_file(root, module, search)
            if target and target not in found:
                todo.append(target)
    return found


def _recipes(root: Path, targets: Iterable[str]) -> str:
    """The recipe lines of the Makefile's targets (a rule may name several targets)."""
    wanted, lines, active = set(targets), [], False
    makefile = root / "Makefile"
    for line in makefile.read_text().splitlines() if makefile.is_file() else []:
        if line.startswith("\t"):
            if active:
                lines.append(line)
            continue
        rule = re.match(r"^([A-Za-z0-9_. -]+):(?!=)", line)
        if rule:
            active = bool(set(rule.group(1).split()) & wanted)
    return "\n".join(lines)


def _named_files(root: Path, text: str) -> set[str]:
    """Repository files a script or recipe names, as written or with a leading variable dropped
    (`"$root/engine/versions.env"`), and the project file of an editable install (`pip install -e .`)."""
    found: set[str] = set()
    for token in _PATH_TOKEN.findall(text):
        parts = [part for part in token.split("/") if part not in ("", ".")]
        for start in range(len(parts)):
            candidate = "/".join(parts[start:])
            if ".." not in parts[start:] and _file(root, candidate):
                found.add(candidate)
    for target in _EDITABLE.findall(text):
        project = (root / target / "pyproject.toml").resolve()  # scripts run from the repository root
        if project.is_file() and project.is_relative_to(root.resolve()):
            found.add(str(project.relative_to(root.resolve())))
    return found


def _requirement_includes(root: Path, relative: str) -> set[str]:
    """What a requirement file pulls in: `-r other.txt`, and `-e ..` (a project's pyproject.toml)."""
    folder = root.resolve() / Path(relative).parent
    text = (root / relative).read_text()
    paths = [folder / target for target in _INCLUDE.findall(text)]
    paths += [folder / target / "pyproject.toml" for target in _EDITABLE.findall(text)]
    return {
        str(path.resolve().relative_to(root.resolve()))
        for path in paths
        if path.resolve().is_file() and path.resolve().is_relative_to(root.resolve())
    }


def guarded_files(root: Path) -> set[str]:
    """Every file of the checkout in `root` that the pack, the previews or the engine install execute
    or read, as paths relative to `root`."""
    recipes = _recipes(root, GUARDED_TARGETS)
    found = {"Makefile"} if _file(root, "Makefile") else set()
    # The pack's whole folder is read by the pack; its requirement file's includes are followed too.
    pack_files = {
        str(path.relative_to(root))
        for path in (root / PACK).rglob("*")
        if path.is_file() and not set(path.relative_to(root).parts) & set(SKIPPED)
    }
    pending = [*_named_files(root, recipes), *sorted(pack_files)]
    modules = set(_MODULE_FLAG.findall(recipes))
    while pending:
        current = pending.pop()
        if current in found:
            continue
        found.add(current)
        text = (root / current).read_text(errors="replace")
        if current.endswith(".sh"):
            modules.update(_MODULE_FLAG.findall(text))
            pending += [name for name in _named_files(root, text) if name not in found]
        elif current.endswith(".txt"):
            pending += [name for name in _requirement_includes(root, current) if name not in found]
    entries = [PACK_ENTRY, *(name for module in modules if (name := _module_file(root, module, ("",))))]
    entries += [f"{module.replace('.', '/')}/__main__.py" for module in modules]
    found |= python_closure(root, entries)
    return found


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def changed_guarded_files(project: Path, base: Path) -> list[str]:
    """The guarded files (of either checkout) whose content differs between the two, or that only
    one of them has."""
    names = guarded_files(base) | guarded_files(project)
    return sorted(name for name in names if _digest(project / name) != _digest(base / name))
