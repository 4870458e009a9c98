"""The accounts localcloud holds, each in its own SQLite file: the main account (`--owner-uin`,
state in `--state`) and every account whose root key `--other-account-key` names, beside it
(`state.db` -> `state-<uin>.db`). Each has its own presets, users, roles and STS sessions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from localcloud.cam import install_presets
from localcloud.cam.roles import install_roles
from localcloud.store import Store
from localcloud.sts_assume import install_sessions


def state_path(state: Path, main_uin: int, uin: int) -> Path:
    """Where account `uin` keeps its state, given the main account's state file."""
    return state if uin == main_uin else state.with_name(f"{state.stem}-{uin}{state.suffix}")


def open_account(path: Path) -> Store:
    """An account's store, with the preset policies and the tables of roles and sessions."""
    store = Store(path)
    with store.transaction(write=True) as db:
        install_presets(db, dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"))
        install_roles(db)
        install_sessions(db)
    return store
