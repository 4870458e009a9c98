"""A copy of the project run by the real engine against one localcloud, for end-to-end tests.

The engine comes from `make setup` (.engine/); when it is missing the tests fail and name that
command, they never skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from commands import engine, stack
from commands.engine import RUN_LOG_VARIABLE
from tests.localcloud_process import ROOT, SECRET_ID, SECRET_KEY, LocalCloudProcess

PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "components", "im_access", "policy_pack")
STACKS = ("local", "dev", "staging", "prod")
SEED = ROOT / "localcloud" / "seeds" / "local.json"


def require_engine() -> None:
    """Fails, naming the setup command, when the pinned engine is not installed."""
    engine.pulumi_command()


class EngineProject:
    """The project's files in `workdir`, with its stack files as editable dicts and Pulumi state
    in a file backend beside them."""

    def __init__(self, workdir: Path, cloud: LocalCloudProcess) -> None:
        require_engine()
        self.workdir = workdir
        self.cloud = cloud
        self.credentials = (SECRET_ID, SECRET_KEY)  # the CAM identity the provider signs with
        self.extra_env: dict[str, str] = {}
        for name in PROJECT_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, workdir / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(source, workdir / name)
        (workdir / ".venv").symlink_to(ROOT / ".venv")
        (workdir / "state").mkdir()
        self.configs: dict[str, dict[str, Any]] = {
            name: yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text()) for name in STACKS
        }

    def env(self) -> dict[str, str]:
        proxy = f"http://{self.cloud.address}"
        return {
            "TENCENTCLOUD_SECRET_ID": self.credentials[0],
            "TENCENTCLOUD_SECRET_KEY": self.credentials[1],
            "HTTP_PROXY": proxy,
            "http_proxy": proxy,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PULUMI_BACKEND_URL": f"file://{self.workdir / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": "e2e-only",
            "PULUMI_SKIP_UPDATE_CHECK": "1",
            # The provider's account check (allowedAccountIds) asks STS over HTTPS: localcloud answers.
            **self.cloud.https_env(),
            **self.cloud.lag_env(),  # the project's readers wait out localcloud's lag
            # The suite's count of engine runs (tests/engine_runs.py) reaches a subprocess given this env.
            **{name: os.environ[name] for name in (RUN_LOG_VARIABLE,) if name in os.environ},
            **self.extra_env,
        }

    def config(self, stack_name: str) -> dict[str, Any]:
        """The `config` map of a stack file, to edit before the next run."""
        return self.configs[stack_name]["config"]

    def write_stack_file(self, stack_name: str) -> None:
        (self.workdir / f"Pulumi.{stack_name}.yaml").write_text(yaml.safe_dump(self.configs[stack_name]))

    def run(self, command: str, stack_name: str = "local", **options: Any) -> stack.StackRun:
        self.write_stack_file(stack_name)
        against_localcloud = stack_name != "local"
        return stack.run(
            command, stack_name, work_dir=self.workdir, env=self.env(), against_localcloud=against_localcloud, **options
        )

    def outputs(self, stack_name: str = "local") -> dict[str, Any]:
        with engine.open_stack(stack_name, self.workdir, self.env()) as opened:
            return {key: value.value for key, value in opened.outputs().items()}

    def state_files_text(self) -> str:
        """Everything the backend stored on disk: the stack's state, its backups and history."""
        return "".join(path.read_text() for path in sorted((self.workdir / "state").rglob("*.json")))
