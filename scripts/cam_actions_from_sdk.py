"""Writes im_access/data/cam-sts-actions.csv from the official Tencent Cloud Python SDK's clients.

Each client method calls one API action by name (`self.call("AddUser", ...)`), so the SDK's CAM and
STS clients name every action the services have. Each is classified here, deny by default: `read`
only for the reading verbs (Describe, Get, List) and the STS calls named below; `assume` for the STS
calls that become a role; everything else is `write`. Re-run after upgrading the SDK:

    .venv/bin/python scripts/cam_actions_from_sdk.py
"""

from __future__ import annotations

import csv
import importlib.metadata
import re
import sys
from pathlib import Path

from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.sts.v20180813 import sts_client

OUT = Path(__file__).resolve().parent.parent / "im_access" / "data" / "cam-sts-actions.csv"
READ_VERBS = ("Describe", "Get", "List")
# STS: becoming a role is an edge of the reach graph; a session of one's own (GetFederationToken,
# GetSessionToken) carries no permission its caller lacks; QueryApiKey lists key ids.
STS_KINDS = {
    "AssumeRole": "assume",
    "AssumeRoleWithSAML": "assume",
    "AssumeRoleWithWebIdentity": "assume",
    "GetCallerIdentity": "read",
    "GetFederationToken": "own-session",
    "GetSessionToken": "own-session",
    "QueryApiKey": "read",
}


def actions(module: object) -> list[str]:
    return sorted(set(re.findall(r'self\.call\("(\w+)"', Path(module.__file__).read_text())))  # type: ignore[attr-defined]


def main() -> int:
    rows = [("cam", a, "read" if a.startswith(READ_VERBS) else "write") for a in actions(cam_client)]
    rows += [("sts", a, STS_KINDS.get(a, "write")) for a in actions(sts_client)]
    packages = ("tencentcloud-sdk-python-cam", "tencentcloud-sdk-python-sts")
    versions = {name: importlib.metadata.version(name) for name in packages}
    with OUT.open("w", newline="") as handle:
        handle.write(
            "# Every action of CAM (2019-01-16) and STS (2018-08-13), as the official Python SDK's clients name them:"
            f" {', '.join(f'{k} {v}' for k, v in versions.items())}. Written by scripts/cam_actions_from_sdk.py.\n"
        )
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("service", "action", "kind"))
        writer.writerows(rows)
    print(f"{OUT}: {len(rows)} actions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
