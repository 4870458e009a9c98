"""What the CI credentials step writes to $GITHUB_ENV: each credential on its own line, and nothing
when a value could start a line of its own (a newline in an STS answer would set any variable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from commands.ci_credentials import CredentialsError, hand_over

GOOD = {
    "TENCENTCLOUD_SECRET_ID": "AKIDtemporary0123",
    "TENCENTCLOUD_SECRET_KEY": "s3cr3t/Key+=",
    "TENCENTCLOUD_SECURITY_TOKEN": "token.part-1_2:3",
}


def test_credentials_are_written_one_per_line(tmp_path: Path) -> None:
    github_env = tmp_path / "github_env"
    hand_over(GOOD, github_env)
    assert github_env.read_text().splitlines() == [f"{name}={value}" for name, value in GOOD.items()]


@pytest.mark.parametrize("bad", ["x\nLD_PRELOAD=/tmp/evil.so", "x\rBASH_ENV=/tmp/x", "", "x y", "x<<EOF"])
def test_a_value_that_could_add_a_variable_sets_nothing(tmp_path: Path, bad: str) -> None:
    github_env = tmp_path / "github_env"
    with pytest.raises(CredentialsError, match="TENCENTCLOUD_SECURITY_TOKEN that is not a credential"):
        hand_over({**GOOD, "TENCENTCLOUD_SECURITY_TOKEN": bad}, github_env)
    assert not github_env.exists()
