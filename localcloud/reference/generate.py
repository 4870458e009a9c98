"""Rebuilds `api.json` from the Tencent Cloud Go SDK that the Terraform provider vendors.

    python -m localcloud.reference.generate --git-dir DIR [--ref v1.82.42]

DIR is a clone of github.com/tencentcloudstack/terraform-provider-tencentcloud. The SDK's
`client.go` lists, above each action, the error codes it can return ("可能返回的错误码:"); those
lists, the common codes of API 3.0 and the documented rate limits are written with their source.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

REPOSITORY = "github.com/tencentcloudstack/terraform-provider-tencentcloud"
SDK = "vendor/github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud"
CLIENTS = {
    "cam": f"{SDK}/cam/v20190116/client.go",
    "sts": f"{SDK}/sts/v20180813/client.go",
    "tag": f"{SDK}/tag/v20180813/client.go",
}
OUTPUT = Path(__file__).with_name("api.json")

# The common codes every API 3.0 action may answer (the "公共错误码" table that heads each
# product's error code page, e.g. https://cloud.tencent.com/document/product/1388/114322).
COMMON_CODES_SOURCE = "https://cloud.tencent.com/document/product/1388/114322 (公共错误码)"
COMMON_CODES = [
    "ActionOffline",
    "AuthFailure.InvalidAuthorization",
    "AuthFailure.InvalidSecretId",
    "AuthFailure.MFAFailure",
    "AuthFailure.SecretIdNotFound",
    "AuthFailure.SignatureExpire",
    "AuthFailure.SignatureFailure",
    "AuthFailure.TokenFailure",
    "AuthFailure.UnauthorizedOperation",
    "DryRunOperation",
    "FailedOperation",
    "InternalError",
    "InvalidAction",
    "InvalidParameter",
    "InvalidParameterValue",
    "InvalidRequest",
    "IpInBlacklist",
    "IpNotInWhitelist",
    "LimitExceeded",
    "MissingParameter",
    "NoSuchProduct",
    "NoSuchVersion",
    "RequestLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
    "RequestLimitExceeded.IPLimitExceeded",
    "RequestLimitExceeded.UinLimitExceeded",
    "RequestSizeLimitExceeded",
    "ResourceInUse",
    "ResourceInsufficient",
    "ResourceNotFound",
    "ResourceUnavailable",
    "ResponseSizeLimitExceeded",
    "ServiceUnavailable",
    "UnauthorizedOperation",
    "UnknownParameter",
    "UnsupportedOperation",
    "UnsupportedProtocol",
    "UnsupportedRegion",
]

# Requests per second, from each action's API page (CAM, product 598: "频率限制"). Actions not
# named here document CAM's usual 20 per second.
RATE_LIMITS_SOURCE = "Tencent Cloud API pages of CAM (https://cloud.tencent.com/document/api/598), per action"
DEFAULT_RATE_LIMIT = 20
RATE_LIMITS = {
    "cam": {
        "AddUser": 20,
        "AttachUserPolicy": 10,
        "DetachUserPolicy": 10,
        "AttachGroupPolicy": 10,
        "DetachGroupPolicy": 10,
        "ListPolicies": 20,
        "CreateAccessKey": 5,
        "CreateRole": 2,
        "DeleteRole": 3,
        "AttachRolePolicy": 3,
        "DetachRolePolicy": 3,
        "CreatePolicy": 10,
        "UpdatePolicy": 10,
        "DeletePolicy": 10,
        "DescribeRoleList": 10,
        "UpdateAccessKey": 5,
        "DeleteAccessKey": 5,
    }
}

_ACTION = re.compile(r"^func \(c \*Client\) (\w+)\(request \*\w+Request\)", re.MULTILINE)
_CODE = re.compile(r'^//\s+[A-Z0-9_]+ = "([^"]+)"$')


def error_lists(source: str) -> dict[str, list[str]]:
    """Each action's codes: the `CONST = "Code"` comment lines right above `func (c *Client) Action(request ...)`."""
    lists = {}
    lines = source.splitlines()
    starts = {match.start(): match.group(1) for match in _ACTION.finditer(source)}
    offset = 0
    for number, line in enumerate(lines):
        if offset in starts:
            codes = []
            for above in reversed(lines[:number]):
                match = _CODE.match(above)
                if not match:
                    break
                codes.append(match.group(1))
            lists[starts[offset]] = sorted(codes)
        offset += len(line) + 1
    return lists


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True, text=True).stdout


def build(git_dir: Path, ref: str) -> dict[str, object]:
    commit = _git(git_dir, "rev-list", "-n", "1", ref).strip()
    services = {}
    for service, path in CLIENTS.items():
        errors = error_lists(_git(git_dir, "show", f"{commit}:{path}"))
        limits = RATE_LIMITS.get(service, {})
        services[service] = {
            "source": path,
            "actions": {
                action: {"errors": codes, "rate_limit": limits.get(action)} for action, codes in sorted(errors.items())
            },
        }
    return {
        "provenance": {
            "repository": REPOSITORY,
            "ref": ref,
            "commit": commit,
            "generator": "python -m localcloud.reference.generate",
            "common_codes": COMMON_CODES_SOURCE,
            "rate_limits": RATE_LIMITS_SOURCE,
        },
        "default_rate_limit": DEFAULT_RATE_LIMIT,
        "common_codes": COMMON_CODES,
        "services": services,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", type=Path, required=True, help="a clone of " + REPOSITORY)
    parser.add_argument("--ref", default="v1.82.42", help="the provider release whose vendored SDK is read")
    args = parser.parse_args()
    OUTPUT.write_text(json.dumps(build(args.git_dir, args.ref), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
