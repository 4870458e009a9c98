"""CiFederation: the OIDC provider GitHub Actions signs in through, and the roles it may assume."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from tencentcloud_iac_pulumi import cam

from im_access.federation import AUDIENCE, ISSUER, CiRole, ci_roles, deploy_policy, read_only_policy, web_identity_trust

CI_FEDERATION = "im-access:index:CiFederation"


@dataclass(frozen=True)
class CiFederationArgs:
    """Inputs of a CiFederation."""

    owner_uin: str
    """The account the provider and roles are created in (root UIN)."""
    repository: str
    """This repository on GitHub, owner/name: the only one whose tokens the roles trust."""
    stacks: tuple[str, ...]
    """The stacks with a deploy role each, trusting `environment:<stack>`."""
    identity_key: str
    """The issuer's signing keys: the base64 of its JWKS, as CAM takes it."""
    provider_name: str = "github-actions"
    issuer: str = ISSUER
    audience: str = AUDIENCE
    prefix: str = "im-access"
    """Role and policy names start with it."""


class CiFederation(pulumi.ComponentResource):
    """A role OIDC provider and the CI roles, each trusting one subject of this repository."""

    provider_name: pulumi.Output[str]
    role_arns: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: CiFederationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(CI_FEDERATION, name, {"repository": args.repository, "stacks": list(args.stacks)}, opts)
        child = pulumi.ResourceOptions(parent=self)
        provider = cam.RoleSso(
            f"{name}-provider",
            name=args.provider_name,
            identity_url=args.issuer,
            identity_key=args.identity_key,
            client_ids=[args.audience],
            description=f"GitHub Actions of {args.repository}",
            opts=child,
        )
        read_only = cam.Policy(
            f"{name}-read-only", name=f"{args.prefix}-read-only", document=read_only_policy(), opts=child
        )
        deploy = cam.Policy(f"{name}-deploy", name=f"{args.prefix}-deploy", document=deploy_policy(), opts=child)
        arns: dict[str, pulumi.Output[str]] = {}
        for spec in ci_roles(args.stacks, args.prefix):
            role = self._role(name, spec, args, provider)
            policy = deploy if spec.deploys else read_only
            cam.RolePolicyAttachment(f"{name}-{spec.name}-policy", role_id=role.id, policy_id=policy.id, opts=child)
            arns[spec.name] = role.role_arn
        self.provider_name = provider.name
        self.role_arns = pulumi.Output.all(**arns)
        self.register_outputs({"providerName": self.provider_name, "roleArns": self.role_arns})

    def _role(self, name: str, spec: CiRole, args: CiFederationArgs, provider: cam.RoleSso) -> cam.Role:
        # The trust names the provider by its configured name, so the guardrails read it in preview.
        return cam.Role(
            f"{name}-{spec.name}",
            name=spec.name,
            document=web_identity_trust(
                args.owner_uin, args.provider_name, spec.subject(args.repository), args.audience
            ),
            console_login=False,
            description=f"GitHub Actions of {args.repository}, {spec.environment}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[provider]),
        )
