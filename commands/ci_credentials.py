"""`python -m commands.ci_credentials --role-arn ARN --provider-id NAME`: a CAM role's temporary
credentials for a GitHub Actions job, from its OIDC token. No long-lived key is involved.

The job's OIDC token (it needs `permissions: id-token: write`) is requested for the audience
`sts.tencentcloudapi.com` and exchanged with STS AssumeRoleWithWebIdentity through the official
SDK. The credentials go to `$GITHUB_ENV` as TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY and
TENCENTCLOUD_SECURITY_TOKEN (read by the provider and the audit) for the job's later steps, each
masked in the log first. Nothing secret is printed otherwise. Exit 0 on success, 2 with a one-line
reason on stderr otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from im_access.federation import AUDIENCE
from im_access.provider_config import localcloud_route

STS_ENDPOINT = "sts.tencentcloudapi.com"
ENV_NAMES = ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SECURITY_TOKEN")


class CredentialsError(Exception):
    """Why no credentials could be had, in one line."""


def oidc_token(env: Mapping[str, str], audience: str) -> str:
    """The job's OIDC token from GitHub's token service, for `audience`."""
    url, bearer = env.get("ACTIONS_ID_TOKEN_REQUEST_URL"), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not bearer:
        raise CredentialsError("no OIDC token service: give the job `permissions: id-token: write`")
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    request = urllib.request.Request(
        f"{url}{separator}audience={urllib.parse.quote(audience)}", headers={"Authorization": f"bearer {bearer}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            value = json.loads(answer.read())["value"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CredentialsError(f"the OIDC token could not be fetched: {type(error).__name__}") from None
    if not isinstance(value, str) or not value:
        raise CredentialsError("the OIDC token service answered without a token")
    return value


def assume_role(env: Mapping[str, str], role_arn: str, provider_id: str, token: str, duration: int) -> dict[str, str]:
    """STS AssumeRoleWithWebIdentity, unsigned as the SDK's OIDC credential sends it."""
    plain = localcloud_route(env)  # localcloud speaks plain HTTP through its proxy; the cloud, HTTPS only
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=STS_ENDPOINT, protocol="http" if plain else "https"))
    client = CommonClient("sts", "2018-08-13", None, env.get("TENCENTCLOUD_REGION", "ap-guangzhou"), profile=profile)
    params = {
        "ProviderId": provider_id,
        "WebIdentityToken": token,
        "RoleArn": role_arn,
        "RoleSessionName": f"github-{env.get('GITHUB_RUN_ID', 'run')}"[:128],
        "DurationSeconds": duration,
    }
    try:
        answer = client.call_json("AssumeRoleWithWebIdentity", params, options={"SkipSign": True})
    except TencentCloudSDKException as error:
        raise CredentialsError(f"STS refused the role {role_arn}: {error.get_code()}: {error.get_message()}") from None
    found = answer["Response"]["Credentials"]
    return dict(zip(ENV_NAMES, (found["TmpSecretId"], found["TmpSecretKey"], found["Token"]), strict=True))


# What a credential from STS is made of; anything else (a newline above all, which would start another
# `NAME=value` line in $GITHUB_ENV and set any variable a later step reads) is refused.
CREDENTIAL_VALUE = re.compile(r"[A-Za-z0-9+/=_.:-]{1,4096}")


def hand_over(credentials: Mapping[str, str], github_env: Path) -> None:
    """Masks each value in the job's log, then sets it for the job's later steps; nothing is written
    when any value could add a line of its own."""
    for name, value in credentials.items():
        if not isinstance(value, str) or not CREDENTIAL_VALUE.fullmatch(value):
            raise CredentialsError(f"STS answered a {name} that is not a credential; nothing was set")
    for value in credentials.values():
        print(f"::add-mask::{value}")
    with github_env.open("a") as target:
        for name, value in credentials.items():
            target.write(f"{name}={value}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commands.ci_credentials", description=__doc__.splitlines()[0])
    parser.add_argument("--role-arn", required=True, help="qcs::cam::uin/<uin>:roleName/<role>")
    parser.add_argument("--provider-id", required=True, help="the role OIDC provider's name in CAM")
    parser.add_argument("--audience", default=AUDIENCE)
    parser.add_argument("--duration", type=int, default=3600, help="seconds, at most the role's session duration")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    github_env = env.get("GITHUB_ENV")
    try:
        if not github_env:
            raise CredentialsError("GITHUB_ENV is not set: this runs as a step of a GitHub Actions job")
        token = oidc_token(env, args.audience)
        credentials = assume_role(env, args.role_arn, args.provider_id, token, args.duration)
        hand_over(credentials, Path(github_env))
    except CredentialsError as error:
        print(f"ci_credentials: {error}", file=sys.stderr)
        return 2
    print(f"ci_credentials: assumed {args.role_arn}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
