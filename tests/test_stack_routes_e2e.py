"""The routes through another resource, previewed with the command the README documents
(`make preview-localcloud`): the real engine runs a program with the real provider against
localcloud, and the base's guardrails judge it.

Only the engine shows: values resolved by the provider at preview, and a value unknown in preview
judged again at `up`. Each route's verdict alone goes through the analyzer protocol
(tests/test_stack_routes_protocol.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.engine_project import PROJECT_FILES, SEED, EngineProject, require_engine
from tests.localcloud_process import CAM_LAG, ROOT, LocalCloudProcess, call

ROUTES = "im-full-access-across-the-stack"

# Appended to the project's program: routes to IM full access through other resources.
PROGRAM = """
from tencentcloud_iac_pulumi import cam as _cam, organization as _org


def _identity(name, **policy):
    return _org.OrgIdentity(
        name, identity_alias_name=name.replace("-", ""),
        identity_policies=[_org.OrgIdentityIdentityPolicyArgs(**policy)],
    )


# An identity that grants everything, given to members under a read-only label.
_admins = _identity("org-admins", policy_type=2, policy_id=1, policy_name="AdministratorAccess")
_org.OrgMemberPolicyAttachment(
    "org-admins-members", identity_id=_admins.id.apply(int), member_uins=[100020000123],
    policy_name="QcloudIMReadOnlyAccess",
)
# Its look-alike: read-only, under an alarming label; its id is only known at up.
_support = _identity("org-support", policy_type=2, policy_name="QcloudIMReadOnlyAccess")
_org.OrgMemberPolicyAttachment(
    "org-support-members", identity_id=_support.id.apply(int), member_uins=[100020000124],
    policy_name="AdministratorAccess",
)
# A key computed from a user that exists: it resolves to no target, the deploy identity's own key.
_qa = _cam.User.get("qa-lead", "qa-lead")
_cam.AccessKey("qa-lead-key", target_uin=_qa.uin.apply(lambda _: None))
# A key computed from a user created in this update: unknown in preview, judged at up.
_bot = _cam.User("e2e-bot", name="e2e-bot", remark="e2e", force_delete=True)
_cam.AccessKey("e2e-bot-key", target_uin=_bot.uin.apply(lambda uin: uin))
"""


def _project(workdir: Path) -> Path:
    """A copy of the project with PROGRAM appended to its program: a pull request's checkout."""
    project = workdir / "pr"
    project.mkdir()
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, project / name)
    for stack_file in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, project / stack_file.name)
    (project / ".venv").symlink_to(ROOT / ".venv")
    with (project / "__main__.py").open("a") as program:
        program.write(PROGRAM)
    return project


def _results(project: Path) -> list[dict[str, Any]]:
    sarif = json.loads((project / "reports" / "dev-preview.sarif").read_text())
    return [r for r in sarif["runs"][0]["results"] if r["ruleId"] == ROUTES]


def test_make_preview_localcloud_judges_identities_and_resolved_values_and_notes_the_unknown(tmp_path: Path) -> None:
    require_engine()
    project = _project(tmp_path)
    env = {
        **os.environ,
        "LOCALCLOUD_PORT": "0",
        "LOCALCLOUD_STATE": str(tmp_path / "localcloud" / "state.db"),
        "LOCALCLOUD_ARGS": " ".join(CAM_LAG),
    }
    result = subprocess.run(
        ["make", "preview-localcloud", "STACK=dev", f"PROJECT={project}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(result.stdout[-4000:], result.stderr[-4000:])

    assert result.returncode == 2  # make's code for a failed recipe: the preview was blocked
    results = _results(project)
    blocked = {
        r["properties"]["resource"].rsplit("::", 1)[-1]: r["message"]["text"] for r in results if r["level"] == "error"
    }
    assert set(blocked) == {"org-admins", "org-admins-members", "qa-lead-key"}, blocked
    assert (
        "member account 100020000123 of OrgMemberPolicyAttachment 'org-admins-members' -> organization identity"
        " 'org-admins' (given the identity) -> identityPolicies[0], preset AdministratorAccess includes IM full access"
        in blocked["org-admins-members"].replace("\\", "")  # SARIF's text is escaped as Markdown
    )
    assert "without targetUin" in blocked["qa-lead-key"]
    (note,) = [r["message"]["text"] for r in results if r["level"] != "error"]
    assert "judged at `pulumi up`" in note
    assert "AccessKey 'e2e-bot-key' (.targetUin)" in note and "OrgMemberPolicyAttachment 'org-support-members'" in note
    assert "org-admins" not in note and "qa-lead-key" not in note


# A key said to be the new bot's, computed from it, that resolves to another user's uin.
KEY_THROUGH_A_NEW_USER = """
import pulumi as _pulumi
from tencentcloud_iac_pulumi import cam as _cam

_bot = _cam.User("e2e-bot", name="e2e-bot", remark="e2e", force_delete=True)
_qa = _cam.User.get("qa-lead", "qa-lead")
_cam.AccessKey("e2e-bot-key", target_uin=_pulumi.Output.all(_bot.uin, _qa.uin).apply(lambda uins: uins[1]))
"""


def test_a_value_unknown_in_preview_is_blocked_at_up(tmp_path: Path) -> None:
    """Noted in the preview as left to `up` (the note on e2e-bot-key in the test above), then judged
    with its real value at `up`."""
    with LocalCloudProcess(tmp_path / "localcloud.db", "--seed", str(SEED), *CAM_LAG) as cloud:
        project = EngineProject(tmp_path, cloud)
        with (project.workdir / "__main__.py").open("a") as program:
            program.write(KEY_THROUGH_A_NEW_USER)
        qa_uin = call(cloud.cam(), "GetUser", Name="qa-lead")["Uin"]
        guardrails = project.workdir / "policy_pack"
        approvals_file = guardrails / "approvals.yaml"
        approvals = yaml.safe_load(approvals_file.read_text())
        approvals["stacks"]["local"]["fullAccessPrincipals"] = [f"uin:{qa_uin}"]
        approvals_file.write_text(yaml.safe_dump(approvals))

        up = project.run("up", "local", guardrails=guardrails)
        keys = call(cloud.cam(), "ListAccessKeys", TargetUin=qa_uin)["AccessKeys"]

    assert up.exit_code != 0
    (blocked,) = [v for v in up.summary.violations if v[0] == "mandatory"]
    assert blocked[1] == ROUTES and blocked[2].endswith("::e2e-bot-key")
    assert f"uin:{qa_uin} -> policy_pack/approvals.yaml fullAccessPrincipals lists it" in blocked[3]
    print("keys of the listed user after the blocked up:", keys)
