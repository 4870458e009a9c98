"""One stack, one file: the stack files of a project, each named exactly as the engine names it.

The engine reads the stack `dev` from `Pulumi.dev.yaml` and the stack `dev.zz` from
`Pulumi.dev.zz.yaml`. A stack file for a stack the guardrails do not know, two files whose names
differ only in letter case, or any other `Pulumi.*` file would let a decoy declare access that
the audit then takes as declared; each is an error, and all of them are listed at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from im_access import safe_yaml
from im_access.approvals import load_approvals

# The engine's rule for a stack name (`pulumi stack init` refuses anything else).
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
PREFIX, SUFFIX = "Pulumi.", ".yaml"
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")


class StackFileError(ValueError):
    """Every stack file of the project that is not exactly one known stack's file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def known_stacks(guardrails: Path) -> list[str]:
    """The stacks the reviewed approvals (`<guardrails>/approvals.yaml`) list."""
    return sorted(load_approvals(guardrails).stacks)


# What the project file may say. Anything else would change what the engine runs or reads past the
# checks on the stack files: `plugins` (a provider binary), `stackConfigDir` (stack files elsewhere),
# a config `value` or `default` (provider settings and operators no stack file shows), `backend`.
PROJECT_KEYS = ("name", "description", "runtime", "config")
CONFIG_DECLARATION_KEYS = ("type", "description", "secret", "items")


def _config_problems(name: str, config: object) -> list[str]:
    if not isinstance(config, dict):
        return [f"{name}: config: a mapping of key declarations"]
    problems = []
    for key, declaration in config.items():
        shown = str(key)[:60]
        if ":" in str(key) and not str(key).startswith("im-access:"):
            problems.append(
                f"{name}: config.{shown}: only im-access keys are declared here; provider settings belong in"
                " the stack files"
            )
        elif not isinstance(declaration, dict) or set(declaration) - set(CONFIG_DECLARATION_KEYS):
            problems.append(
                f"{name}: config.{shown}: a declaration only (allowed: {', '.join(CONFIG_DECLARATION_KEYS)});"
                " values belong in the stack files"
            )
    return problems


def project_file_problems(project: Path) -> list[str]:
    """What the project file (Pulumi.yaml) says beyond its name, runtime and config declarations."""
    problems = []
    for name in PROJECT_FILES:
        path = project / name
        if not path.is_file():
            continue
        try:
            document = safe_yaml.load(path.read_text(), name)
        except (yaml.YAMLError, safe_yaml.UnsafeYamlError) as error:
            problems.append(f"{name} cannot be read: {safe_yaml.shown(str(error), 300)}")
            continue
        if not isinstance(document, dict):
            problems.append(f"{name}: a mapping of {', '.join(PROJECT_KEYS)}")
            continue
        problems += [
            f"{name}: {str(key)[:60]}: not allowed here; allowed: {', '.join(PROJECT_KEYS)}"
            for key in document
            if key not in PROJECT_KEYS
        ]
        if "config" in document:
            problems += _config_problems(name, document["config"])
    return problems


def stack_files(project: Path, known: Iterable[str]) -> dict[str, Path]:
    """Each stack of the project and its file; StackFileError listing every file that is not one."""
    allowed = set(known)
    found: dict[str, Path] = {}
    seen: dict[str, str] = {}
    problems: list[str] = []
    for path in sorted(project.glob("Pulumi.*")):
        if path.name in PROJECT_FILES:
            continue
        name = path.name.removeprefix(PREFIX).removesuffix(SUFFIX)
        if not path.name.endswith(SUFFIX) or not STACK_NAME.match(name):
            problems.append(f"{path.name} is not a stack file; allowed: Pulumi.<stack>.yaml, one per stack")
        elif name not in allowed:
            problems.append(
                f"{path.name} is the file of stack {name!r}, which policy_pack/approvals.yaml does not list;"
                f" allowed stacks: {', '.join(sorted(allowed)) or 'none'}"
            )
        elif name.casefold() in seen:
            problems.append(f"{path.name} and Pulumi.{seen[name.casefold()]}.yaml name one stack; keep one file")
        else:
            seen[name.casefold()] = name
            found[name] = path
    if problems:
        raise StackFileError(problems)
    return found
