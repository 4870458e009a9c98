"""The CI federation as code, through the real engine and the guardrails against localcloud: `up`
creates the OIDC provider and the roles, and a token minted by the test issuer then gets each
role's temporary credentials for its own subject only, limited to its policy.

Only the engine shows: the roles as the provider's resources really carry them passing the
guardrails, and CAM and STS holding them after `up`. The guardrails' verdicts on hostile roles (a
wildcard subject, an admin role a pull request can assume, approved stacks included) need no
engine: tests/test_role_trust_protocol.py sends them through the analyzer protocol."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from im_access.federation import ci_roles, web_identity_trust
from im_access.trust import judge_trust_document, jwk_thumbprint, load_trust_settings
from tests.engine_project import EngineProject
from tests.localcloud_process import CAM_LAG, ROOT, LocalCloudProcess, call, error_code
from tests.oidc_issuer import OidcIssuer, subject
from tests.test_localcloud_sts_assume import assume_with_token, cam_as, refused

# The tests share one deployed federation: the module runs on one worker (`make test`
# distributes with --dist loadgroup), so it is deployed once.
pytestmark = pytest.mark.xdist_group("ci-federation")

OWNER_UIN = "100012345678"
PROGRAM = """
import pulumi
from components import CiFederation, CiFederationArgs

federation = CiFederation(
    "ci",
    CiFederationArgs(
        owner_uin="100012345678",
        repository="im-access/im-access",
        stacks=("local", "prod"),
        identity_key={identity_key!r},
        provider_name="github",
    ),
)
pulumi.export("roleArns", federation.role_arns)
"""


def test_every_trust_the_federation_builds_passes_the_guardrails() -> None:
    settings = load_trust_settings(ROOT / "policy_pack")
    for role in ci_roles(("dev", "staging", "prod")):
        verdict = judge_trust_document(
            web_identity_trust(OWNER_UIN, "github", role.subject("im-access/im-access")), settings
        )
        assert verdict.problems == [], role
        # Only the read-only preview role is one a pull request's job can assume.
        assert (verdict.pull_request is not None) == (role.environment == "preview"), role


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloudProcess, OidcIssuer, Any]]:
    workdir = tmp_path_factory.mktemp("federation")
    issuer = OidcIssuer()
    with LocalCloudProcess(workdir / "localcloud.db", *CAM_LAG) as cloud:
        (workdir / "project").mkdir()
        project = EngineProject(workdir / "project", cloud)
        shutil.copytree(ROOT / "security", project.workdir / "security")
        trust_file = project.workdir / "policy_pack" / "trust.yaml"
        trust_settings = yaml.safe_load(trust_file.read_text())
        trust_settings["issuerKeys"] = [jwk_thumbprint(key) for key in issuer.jwks["keys"]]  # reviewed
        trust_file.write_text(yaml.safe_dump(trust_settings))
        (project.workdir / "__main__.py").write_text(PROGRAM.format(identity_key=issuer.identity_key))
        result = project.run("up", "local", guardrails=project.workdir / "policy_pack")
        yield cloud, issuer, result


def test_up_creates_the_provider_and_the_roles_under_the_guardrails(
    deployed: tuple[LocalCloudProcess, OidcIssuer, Any],
) -> None:
    cloud, _, result = deployed
    assert result.exit_code == 0, "\n".join(result.output[-40:])
    cam = cloud.cam()
    assert call(cam, "DescribeOIDCConfig", Name="github")["ClientId"] == ["sts.tencentcloudapi.com"]
    for role in ("im-access-preview", "im-access-audit", "im-access-deploy-local", "im-access-deploy-prod"):
        info = call(cam, "GetRole", RoleName=role)["RoleInfo"]
        assert json.loads(info["PolicyDocument"])["statement"][0]["condition"]["string_equal"]["oidc:sub"], role
        assert call(cam, "ListAttachedRolePolicies", RoleName=role, Page=1, Rp=20)["TotalNum"] == 1, role


def test_each_role_gets_credentials_for_its_own_subject_only(
    deployed: tuple[LocalCloudProcess, OidcIssuer, Any],
) -> None:
    cloud, issuer, _ = deployed
    deploy = assume_with_token(cloud, "im-access-deploy-local", issuer.token(subject("environment:local")))
    as_deploy = cam_as(cloud, deploy["Credentials"])
    name = "made-by-the-deploy-role"
    assert call(as_deploy, "AddUser", Name=name, ConsoleLogin=0)["Name"] == name

    preview = assume_with_token(cloud, "im-access-preview", issuer.token(subject("environment:preview")))
    as_preview = cam_as(cloud, preview["Credentials"])
    assert call(as_preview, "ListPolicies", Rp=1)["TotalNum"] > 0
    assert error_code(as_preview, "AddUser", Name="made-by-a-preview") == "UnauthorizedOperation"

    # A pull request's token, or one of another stack's environment, cannot deploy.
    for sub in (subject("pull_request"), subject("environment:prod"), subject("environment:preview")):
        assert refused(cloud, "im-access-deploy-local", issuer.token(sub)) == "UnauthorizedOperation", sub
    assert refused(cloud, "im-access-deploy-prod", issuer.token(subject("environment:local"), lifetime=-5)) == (
        "InvalidParameter.WebIdentityTokenError"
    )
