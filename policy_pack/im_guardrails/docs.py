"""The README's policy table, generated from the policies themselves so the two cannot drift.

cd policy_pack && ../.venv/bin/python -m im_guardrails.docs
"""

from __future__ import annotations

import json

from pulumi_policy import Policy

from im_guardrails import ALL_POLICIES


def _config_cell(policy: Policy) -> str:
    schema = policy.config_schema
    if schema is None or not schema.properties:
        return "none"
    return "<br>".join(
        f"`{key}` (default `{json.dumps(spec.get('default'))}`)" for key, spec in schema.properties.items()
    )


def policy_table() -> str:
    rows = [
        "| policy | what it checks | default level | config keys (defaults) |",
        "|---|---|---|---|",
    ]
    for policy in ALL_POLICIES:
        level = policy.enforcement_level.value if policy.enforcement_level else "advisory"
        rows.append(f"| `{policy.name}` | {policy.description} | {level} | {_config_cell(policy)} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(policy_table())
