"""The CI federation: which CAM roles GitHub Actions may assume, and the trust policy of each.

One place builds the trust policies, so the component that creates them and the guardrails that
judge them (im_access/trust.py) read the same shapes: each role trusts the OIDC provider of its
account for exactly one subject of this repository, with the audience pinned:

- the read-only preview role: pull-request previews, which run in the `preview` environment;
- the deploy role of a stack: only `environment:<stack>`;
- the audit role: only the audit workflow, which runs in the `audit` environment.

The read-only policy of the previews and the audit is `security/preview-identity-policy.json`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "sts.tencentcloudapi.com"
PREVIEW_ENVIRONMENT = "preview"
AUDIT_ENVIRONMENT = "audit"
READ_ONLY_POLICY_FILE = Path(__file__).resolve().parent.parent / "security" / "preview-identity-policy.json"
# What a deploy does: the program's CAM users, groups, policies, attachments and keys, and their tags.
DEPLOY_ACTIONS = ("name/cam:*", "name/tag:*")


@dataclass(frozen=True)
class CiRole:
    """A role the workflows assume: its name, the subject it trusts, and whether it may change the account."""

    name: str
    environment: str
    deploys: bool

    def subject(self, repository: str) -> str:
        return f"repo:{repository}:environment:{self.environment}"


def ci_roles(stacks: tuple[str, ...], prefix: str = "im-access") -> tuple[CiRole, ...]:
    """The preview and audit roles, and one deploy role per stack."""
    return (
        CiRole(f"{prefix}-preview", PREVIEW_ENVIRONMENT, deploys=False),
        CiRole(f"{prefix}-audit", AUDIT_ENVIRONMENT, deploys=False),
        *(CiRole(f"{prefix}-deploy-{stack}", stack, deploys=True) for stack in stacks),
    )


def provider_principal(owner_uin: str, provider: str) -> str:
    return f"qcs::cam::uin/{owner_uin}:oidc-provider/{provider}"


def web_identity_trust(owner_uin: str, provider: str, subject: str, audience: str = AUDIENCE) -> str:
    """A trust policy letting one exact subject of the provider assume the role, for one audience."""
    return json.dumps(
        {
            "version": "2.0",
            "statement": [
                {
                    "effect": "allow",
                    "action": "name/sts:AssumeRoleWithWebIdentity",
                    "principal": {"federated": [provider_principal(owner_uin, provider)]},
                    "condition": {"string_equal": {"oidc:aud": [audience], "oidc:sub": [subject]}},
                }
            ],
        },
        separators=(",", ":"),
    )


def read_only_policy() -> str:
    """The read-only policy of the previews and the audit, as reviewed in security/."""
    return json.dumps(json.loads(READ_ONLY_POLICY_FILE.read_text()), separators=(",", ":"))


def deploy_policy() -> str:
    return json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": list(DEPLOY_ACTIONS), "resource": ["*"]}]},
        separators=(",", ":"),
    )
