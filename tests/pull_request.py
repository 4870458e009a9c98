"""A pull request's checkout beside this one, previewed as CI previews a fork's pull request:
`make preview-localcloud STACK=... PROJECT=<checkout>` with this checkout's guardrails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.localcloud_process import CAM_LAG, ROOT

PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "components")


def program_checkout(target: Path, *names: str) -> Path:
    """The program (and the named files, e.g. stack files) of this checkout in `target`, with its
    environment linked as CI links the base branch's."""
    target.mkdir(parents=True, exist_ok=True)
    for name in (*PROGRAM_FILES, *names):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def make_preview_localcloud(
    project: Path, scratch: Path, stack: str = "dev", timeout: int = 900, localcloud_args: str = ""
) -> subprocess.CompletedProcess[str]:
    """The documented line, with localcloud's state and port of its own under `scratch`, CAM's lag and
    `localcloud_args`."""
    env = {
        **os.environ,
        "LOCALCLOUD_STATE": str(scratch / "localcloud" / "state.db"),
        "LOCALCLOUD_PORT": "0",
        "LOCALCLOUD_ARGS": " ".join((*CAM_LAG, localcloud_args)),
    }
    return subprocess.run(
        ["make", "preview-localcloud", f"STACK={stack}", f"PROJECT={project}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
