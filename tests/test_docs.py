"""The README's policy table is the one generated from the code."""

from __future__ import annotations

import re

from im_guardrails import ALL_POLICIES
from im_guardrails.docs import policy_table

from tests.harness import ROOT


def test_readme_policy_table_matches_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- policy-table:start -->\n(.*?)\n<!-- policy-table:end -->", readme, re.S)
    assert match, "README.md lost its policy table markers"
    assert match.group(1) == policy_table(), (
        "regenerate with: cd policy_pack && ../.venv/bin/python -m im_guardrails.docs"
    )


def test_every_policy_has_a_config_schema_with_defaults() -> None:
    for policy in ALL_POLICIES:
        assert policy.config_schema is not None, policy.name
        assert all("default" in spec for spec in policy.config_schema.properties.values()), policy.name
