"""A whole copy of this checkout, for tests that run the project's own commands (`make local-up`) and
so write into the checkout (localcloud's state, the engine's salt in a stack file): each test gets
its own, and parallel workers never share one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.localcloud_process import ROOT


def checkout_copy(target: Path) -> Path:
    """The checkout's files (tracked and new, as they are in the working tree) in `target`, with the
    environment and engine of this checkout linked, as `make setup` would have made them."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for linked in (".venv", ".engine"):
        (target / linked).symlink_to(ROOT / linked)
    return target
