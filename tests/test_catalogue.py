"""IM's catalogue of CAM actions, copied into the project with its provenance, and used soundly:
patterns that together cover it are full access; an action matching none of it is a warning."""

from __future__ import annotations

import csv

import pytest

from im_access.access import custom_actions_grant_all_of_im
from im_access.catalogue import (
    CATALOGUE_ACTIONS,
    CATALOGUE_FILE,
    closest_actions,
    covers_catalogue,
    matches_catalogue,
    unknown_action_warning,
)
from tests.harness import ROOT


def test_the_catalogue_is_in_the_project_with_its_sources() -> None:
    assert CATALOGUE_FILE.is_relative_to(ROOT / "im_access")
    with CATALOGUE_FILE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["action", "section", "granularity", "resource", "seen_on"]
    assert len(CATALOGUE_ACTIONS) == len(rows) == 86
    assert "DescribeAppStatList" in CATALOGUE_ACTIONS and "RemoveUser" in CATALOGUE_ACTIONS
    provenance = (CATALOGUE_FILE.parent / "README.md").read_text()
    assert "https://cloud.tencent.com/document/product/598/69962" in provenance
    assert "It is incomplete" in provenance
    # Nothing reads the shared folder it came from at run time.
    for path in [*ROOT.glob("im_access/**/*.py"), *ROOT.glob("policy_pack/**/*.py"), *ROOT.glob("commands/*.py")]:
        assert "im-cam-actions/" not in path.read_text() and "../shared" not in path.read_text(), path


def test_patterns_that_together_cover_every_catalogue_action_are_full_access() -> None:
    initials = sorted({action[0] for action in CATALOGUE_ACTIONS})
    patterns = [f"name/im:{initial}*" for initial in initials]
    assert covers_catalogue(patterns)
    assert custom_actions_grant_all_of_im(patterns)
    assert not any(covers_catalogue([pattern]) for pattern in patterns)  # no single one does
    assert not custom_actions_grant_all_of_im(patterns[:-1])
    # Every name listed one by one covers the subset too: erring towards full is the safe side.
    assert custom_actions_grant_all_of_im([f"name/im:{action}" for action in CATALOGUE_ACTIONS])
    assert not custom_actions_grant_all_of_im([f"name/im:{action}" for action in CATALOGUE_ACTIONS[1:]])


def test_catalogue_matching_ignores_letter_case_and_reads_every_spelling_of_im() -> None:
    assert matches_catalogue("NAME/IM:describeappstatlist")
    assert matches_catalogue("avc:RemoveUser")
    assert matches_catalogue("name/im:Describe*")
    assert not matches_catalogue("name/cvm:DescribeInstances")
    assert not matches_catalogue("name/im:DescribeAppStatLst")


@pytest.mark.parametrize(
    ("typo", "first"),
    [("name/im:DescribeAppStatLst", "name/im:DescribeAppStatList"), ("name/im:RemoveUsr", "name/im:RemoveUser")],
)
def test_a_typo_gets_up_to_three_closest_names(typo: str, first: str) -> None:
    suggestions = closest_actions(typo)
    assert suggestions[0] == first and 1 <= len(suggestions) <= 3
    warning = unknown_action_warning(typo)
    assert warning is not None and f"did you mean {first}" in warning and "partial" in warning


def test_a_known_action_or_a_matching_wildcard_gets_no_warning() -> None:
    assert unknown_action_warning("name/im:DescribeAppStatList") is None
    assert unknown_action_warning("name/im:Describe*") is None
    assert unknown_action_warning("name/im:Zzz*") is not None


def test_the_pack_warns_of_a_custom_action_outside_the_catalogue_with_the_closest_names() -> None:
    from im_guardrails import custom_actions_in_catalogue

    from im_access.contract import IM_OPERATOR
    from tests.policy_args import on_stack, violations

    props = {"access": "custom", "userName": "bot", "actions": ["name/im:DescribeAppStatLst", "name/im:RemoveUser"]}
    with on_stack("dev"):
        (warning,) = violations(custom_actions_in_catalogue, IM_OPERATOR, props)
        assert violations(custom_actions_in_catalogue, IM_OPERATOR, {**props, "actions": ["name/im:RemoveUser"]}) == []
    assert "user 'bot'" in warning and "did you mean name/im:DescribeAppStatList" in warning
    assert custom_actions_in_catalogue.enforcement_level is not None
    assert custom_actions_in_catalogue.enforcement_level.value == "advisory"
