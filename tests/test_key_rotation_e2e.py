"""API keys that rotate with overlap, through the real engine and provider against localcloud.

One scenario on the `local` stack: `pulumi up` on successive days (IM_ACCESS_TODAY), counting the
operator's keys in CAM with the official SDK after each step: one key, then two during the
overlap, then the new one alone; never more than two, never none, the handed-over key always
active. On the day of that rotation an operator with the user's own key (`apiKey: true`) moves to
rotation: the own key is adopted, kept to its last day (the last of the other's overlap), deleted
with the other's previous key, and the next rotation has room for its new key.

Only the engine shows: the provider's create, import and delete of real keys as the dates move,
and a preview on an overlap's last day that changes nothing. Which generations a date holds is
im_access/key_rotation.py's, tested without the engine (tests/test_key_rotation.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from commands.preview_summary import markdown
from im_access.key_rotation import Rotation, anchor, generations
from tests.engine_project import SEED, EngineProject
from tests.localcloud_process import CAM_LAG, LocalCloudProcess, call

# One rotation cycle on one stack, date after date (each test starts from what the one before
# left): the module runs on one worker (`make test` distributes with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("key-rotation")

ROTOR = "im-local-rotor"
LEGACY = "im-local-legacy"
ROTATION = Rotation(rotate_days=30, overlap_days=5)
DAY = dt.timedelta(days=1)
# A generation start of ROTOR in 2026, and LEGACY's, far from an overlap of its own.
START = anchor(ROTOR, ROTATION) + 77 * ROTATION.rotate_days * DAY


def keys(project: EngineProject, user: str) -> list[dict[str, Any]]:
    cam = project.cloud.cam()
    uin = call(cam, "GetUser", Name=user)["Uin"]
    return list(call(cam, "ListAccessKeys", TargetUin=uin)["AccessKeys"])


SUMMARIES: list[str] = []  # the Markdown summary of each `up`, as a pull request would show it
OUTPUTS: list[dict[str, Any]] = []  # the stack's `operators` output after each `up`


def up_on(project: EngineProject, day: dt.date) -> dict[str, Any]:
    project.extra_env["IM_ACCESS_TODAY"] = day.isoformat()
    result = project.run("up")
    assert result.exit_code == 0, result.text
    SUMMARIES.append(markdown(result.summary, result.exit_code))
    OUTPUTS.append(dict(project.outputs()["operators"]))
    return OUTPUTS[-1]


def handed_over_key_is_active(project: EngineProject, operator: dict[str, Any]) -> list[dict[str, Any]]:
    listed = keys(project, operator["userName"])
    assert 1 <= len(listed) <= 2, listed
    assert {k["AccessKeyId"]: k["Status"] for k in listed}.get(operator["secretId"]) == "Active"
    return listed


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProject]:
    workdir = tmp_path_factory.mktemp("rotation")
    cloud = LocalCloudProcess(workdir / "localcloud.db", "--seed", str(SEED), *CAM_LAG).start()
    local = EngineProject(workdir, cloud)
    config = local.config("local")
    rotating = {"rotateDays": ROTATION.rotate_days, "overlapDays": ROTATION.overlap_days}
    config["im-access:operators"] = [
        {"name": ROTOR, "access": "readonly", "console": False, "apiKey": rotating},
        {"name": LEGACY, "access": "readonly", "console": False, "apiKey": True},
    ]
    config["im-access:grants"] = []
    yield local
    local.cloud.stop()


def test_a_new_rotating_operator_gets_one_key(project: EngineProject) -> None:
    operators = up_on(project, START + 10 * DAY)
    rotor = operators[ROTOR]
    assert [k["AccessKeyId"] for k in handed_over_key_is_active(project, rotor)] == [rotor["secretId"]]
    assert rotor["keyCreated"] == START.isoformat() and rotor["previousKeyLastDay"] is None
    assert rotor["nextKey"] == (START + 30 * DAY).isoformat()
    assert len(rotor["secretKey"]) >= 20
    # The legacy operator keeps the user's own key, as before.
    assert [k["AccessKeyId"] for k in keys(project, LEGACY)] == [operators[LEGACY]["secretId"]]


ROTATION_DAY = START + 30 * DAY
LEGACY_ROTATION = Rotation(rotate_days=90, overlap_days=7)
LAST_DAY = START + 34 * DAY  # the rotor's previous key's, and the legacy operator's own key's


def test_at_rotation_a_new_key_is_handed_over_beside_the_previous_one_and_the_users_own_key_is_adopted(
    project: EngineProject,
) -> None:
    """The rotor's new key, and the legacy operator's move to rotation (imported with ownKeyLastDay),
    in one `up`: each works beside its new key to the last day; that day changes nothing."""
    for offset in range(6):  # the scenario's premise: no rotation of LEGACY's own in these days
        assert len(generations(LEGACY, LEGACY_ROTATION, ROTATION_DAY + offset * DAY)) == 1
    before = OUTPUTS[-1]
    project.config("local")["im-access:operators"][1]["apiKey"] = {
        "rotateDays": LEGACY_ROTATION.rotate_days,
        "overlapDays": LEGACY_ROTATION.overlap_days,
        "ownKeyLastDay": LAST_DAY.isoformat(),
    }
    operators = up_on(project, ROTATION_DAY)

    rotor = operators[ROTOR]
    listed = handed_over_key_is_active(project, rotor)
    assert {k["AccessKeyId"] for k in listed} == {before[ROTOR]["secretId"], rotor["secretId"]}
    assert rotor["secretId"] != before[ROTOR]["secretId"] and rotor["secretKey"] != before[ROTOR]["secretKey"]
    assert rotor["previousKeyLastDay"] == LAST_DAY.isoformat()
    assert f"{ROTOR}: a new API key, of {ROTATION_DAY.isoformat()}, is created" in SUMMARIES[-1]

    inline = before[LEGACY]["secretId"]
    legacy = operators[LEGACY]
    listed = handed_over_key_is_active(project, legacy)
    assert {k["AccessKeyId"]: k["Status"] for k in listed} == {inline: "Active", legacy["secretId"]: "Active"}
    assert legacy["secretId"] != inline and legacy["previousKeyLastDay"] == LAST_DAY.isoformat()
    assert f"{LEGACY}: the user's own API key (from apiKey: true) is adopted" in SUMMARIES[-1]

    # The last day of both overlaps changes nothing: the adopted key is declared as it is.
    project.extra_env["IM_ACCESS_TODAY"] = LAST_DAY.isoformat()
    assert project.run("preview", expect_no_changes=True).exit_code == 0


def test_after_the_last_day_only_the_new_keys_are_left(project: EngineProject) -> None:
    newest = {name: OUTPUTS[-1][name]["secretId"] for name in (ROTOR, LEGACY)}
    operators = up_on(project, LAST_DAY + DAY)
    for name in (ROTOR, LEGACY):
        assert [k["AccessKeyId"] for k in handed_over_key_is_active(project, operators[name])] == [newest[name]]
        assert operators[name]["previousKeyLastDay"] is None
    assert f"{ROTOR}: the API key of {START.isoformat()} expires" in SUMMARIES[-1]
    assert f"{LEGACY}: the user's own API key (from apiKey: true) is deleted" in SUMMARIES[-1]


def test_after_the_move_the_next_rotation_has_room_for_its_key(project: EngineProject) -> None:
    before = OUTPUTS[-1][LEGACY]
    operators = up_on(project, dt.date.fromisoformat(before["nextKey"]))
    listed = handed_over_key_is_active(project, operators[LEGACY])
    assert {k["AccessKeyId"] for k in listed} == {before["secretId"], operators[LEGACY]["secretId"]}
