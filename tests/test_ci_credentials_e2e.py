"""Keyless CI against localcloud: `python -m commands.ci_credentials`, as the workflows run it,
exchanges the job's OIDC token (from a stand-in of GitHub's token service, minted by the test
issuer) for a role's temporary credentials; an `up` of the local stack then runs on those alone,
with no long-lived key. Wrong subjects and expired tokens are refused by STS.

Only the engine shows: the provider signing with temporary credentials and their token, reading as
a preview does then writing, with none of them in state or output. The exchange and STS's refusals
need no engine: the command and localcloud answer them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from im_access.federation import deploy_policy, read_only_policy, web_identity_trust
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, ROOT, LocalCloudProcess, call
from tests.oidc_issuer import AUDIENCE, ISSUER, OidcIssuer, subject

OWNER_UIN = "100012345678"
BEARER = "runner-request-token"


class TokenService:
    """GitHub's OIDC token service as a job sees it: a URL and a bearer token; it mints for `sub`."""

    def __init__(self, issuer: OidcIssuer) -> None:
        self.issuer = issuer
        self.sub = subject("environment:local")
        self.lifetime = 300
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                audience = parse_qs(urlsplit(self.path).query).get("audience", [""])[0]
                if self.headers.get("Authorization") != f"bearer {BEARER}":
                    self.send_error(401)
                    return
                body = json.dumps({"value": service.issuer.token(service.sub, aud=audience, lifetime=service.lifetime)})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/token?api-version=2.0"


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloudProcess, TokenService, Path]]:
    workdir = tmp_path_factory.mktemp("keyless")
    issuer = OidcIssuer()
    with LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), *CAM_LAG) as cloud:
        cam = cloud.cam()  # the one-time bootstrap, by an administrator
        call(
            cam,
            "CreateOIDCConfig",
            Name="github",
            IdentityUrl=ISSUER,
            IdentityKey=issuer.identity_key,
            ClientId=[AUDIENCE],
        )
        for role, environment, document in (
            ("deploy-local", "local", deploy_policy()),
            ("preview", "preview", read_only_policy()),
        ):
            trust = web_identity_trust(OWNER_UIN, "github", subject(f"environment:{environment}"))
            call(cam, "CreateRole", RoleName=role, PolicyDocument=trust)
            policy_id = call(cam, "CreatePolicy", PolicyName=f"{role}-policy", PolicyDocument=document)["PolicyId"]
            call(cam, "AttachRolePolicy", PolicyId=policy_id, AttachRoleName=role)
        service = TokenService(issuer)
        yield cloud, service, workdir
        service.server.shutdown()


def ci_credentials(
    cloud: LocalCloudProcess, service: TokenService, role: str, github_env: Path
) -> subprocess.CompletedProcess[str]:
    """The workflows' step, with nothing of the long-lived keys in its environment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TENCENTCLOUD_", "AWS_"))}
    env.update(
        {
            "ACTIONS_ID_TOKEN_REQUEST_URL": service.url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": BEARER,
            "GITHUB_ENV": str(github_env),
            "HTTP_PROXY": f"http://{cloud.address}",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            **cloud.https_env(),  # localcloud's route, as scripts/with_localcloud.sh sets it
        }
    )
    # The workflows' command line.
    command = ["make", "ci-credentials", f"ROLE_ARN=qcs::cam::uin/{OWNER_UIN}:roleName/{role}", "PROVIDER_ID=github"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def handed_over(github_env: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in github_env.read_text().splitlines())


def test_an_up_runs_on_an_oidc_token_alone(
    setting: tuple[LocalCloudProcess, TokenService, Path],
) -> None:
    cloud, service, workdir = setting
    github_env = workdir / "github-env-deploy"
    service.sub = subject("environment:local")
    result = ci_credentials(cloud, service, "deploy-local", github_env)
    assert result.returncode == 0, result.stderr
    found = handed_over(github_env)
    assert set(found) == {"TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SECURITY_TOKEN"}
    # Each value is masked before it is set, and appears nowhere else in the log.
    masks = [f"::add-mask::{value}" for value in found.values()]
    assert [line for line in result.stdout.splitlines() if line.startswith("::")] == masks
    others = [line for line in result.stdout.splitlines() if not line.startswith("::")]
    assert not any(value in line for value in found.values() for line in others)
    assert not any(value in result.stderr for value in found.values())

    (workdir / "project").mkdir()
    project = EngineProject(workdir / "project", cloud)
    project.credentials = (found["TENCENTCLOUD_SECRET_ID"], found["TENCENTCLOUD_SECRET_KEY"])
    project.extra_env["TENCENTCLOUD_SECURITY_TOKEN"] = found["TENCENTCLOUD_SECURITY_TOKEN"]
    # An `up` makes a preview's reads (the account check, getPolicies) before its writes.
    up = project.run("up", "local")
    assert up.exit_code == 0, "\n".join(up.output[-30:])
    assert call(cloud.cam(), "GetUser", Name="im-local-alice")["Name"] == "im-local-alice"
    stored = project.state_files_text() + "\n".join(up.output)
    assert found["TENCENTCLOUD_SECRET_KEY"] not in stored and found["TENCENTCLOUD_SECURITY_TOKEN"] not in stored


@pytest.mark.parametrize(
    ("role", "sub", "lifetime", "code"),
    [
        ("deploy-local", "repo:attacker/im-access:environment:local", 300, "UnauthorizedOperation"),
        ("deploy-local", subject("pull_request"), 300, "UnauthorizedOperation"),
        ("deploy-local", subject("environment:preview"), 300, "UnauthorizedOperation"),
        ("deploy-local", subject("environment:local"), -30, "InvalidParameter.WebIdentityTokenError"),
    ],
)
def test_sts_refuses_wrong_subjects_and_expired_tokens_and_nothing_is_handed_over(
    setting: tuple[LocalCloudProcess, TokenService, Path], role: str, sub: str, lifetime: int, code: str
) -> None:
    cloud, service, workdir = setting
    service.sub, service.lifetime = sub, lifetime
    github_env = workdir / f"github-env-{abs(hash((sub, lifetime)))}"
    github_env.write_text("")
    try:
        result = ci_credentials(cloud, service, role, github_env)
    finally:
        service.sub, service.lifetime = subject("environment:local"), 300
    assert result.returncode == 2  # make's own 2 for any failure
    assert code in result.stderr.strip().splitlines()[0] and "ci_credentials: STS refused" in result.stderr, (
        result.stderr
    )
    assert github_env.read_text() == "" and "::add-mask::" not in result.stdout


def test_without_an_id_token_permission_it_says_so(setting: tuple[LocalCloudProcess, TokenService, Path]) -> None:
    _, _, workdir = setting
    env = {key: value for key, value in os.environ.items() if not key.startswith("ACTIONS_ID_TOKEN")}
    env["GITHUB_ENV"] = str(workdir / "unused")
    command = [sys.executable, "-m", "commands.ci_credentials", "--provider-id", "github", "--role-arn", "x"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "id-token: write" in result.stderr
