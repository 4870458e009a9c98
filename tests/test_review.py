"""The access review's parts without a cloud: git provenance of a declaration, the CSV's escaping and
round trip, and the HTML's escaping."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from commands import escape
from commands.audit import Account
from commands.provenance import Declaration, History, declarations
from commands.review import COLUMNS, Row, build_rows, render_html, summarise, to_csv
from im_access.audit import Declared, Finding, Holding, Member, Usage
from im_access.break_glass import parse_exceptions
from tests.localcloud_process import ROOT
from tests.test_break_glass import VALID

LOCAL = ("local", "Pulumi.local.yaml")
ALICE = ("local", ("user:im-local-alice", "qcloudimreadonlyaccess"))
QA_LEAD = ("local", ("user:qa-lead", "qcloudimreadonlyaccess"))
GROUP = ("local", ("group:90001", "qcloudimreadonlyaccess"))
BOT = ("local", ("user:im-local-stats-bot", "im-access-local-im-local-stats-bot"))


def git(repo: Path, *args: str, author: str = "Dana Admin") -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": "dana@example.com",
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": "dana@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(repo.parent),
    }
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True).stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The local stack file's history: a first commit, a pull request merged with a merge commit that
    gives qa-lead an expiry, then a squashed pull request that changes alice's entry."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shutil.copy(ROOT / LOCAL[1], repo / LOCAL[1])
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Stack files")
    git(repo, "checkout", "-q", "-b", "qa-expiry")
    grant = "    - user: qa-lead\n      access: readonly\n"
    edit(repo / LOCAL[1], grant, grant + '      expires: "2030-01-01"\n')
    git(repo, "commit", "-q", "-am", "=1+1 give qa-lead an expiry", author="Quinn Reviewer")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "qa-expiry", "-m", "Merge pull request #42 from example/qa-expiry")
    edit(repo / LOCAL[1], "remark: IM developer, read-only", "remark: IM developer, read-only, EU")
    git(repo, "commit", "-q", "-am", "Alice works from the EU office (#57)", author="Ada Lead")
    return repo


def test_each_declaration_names_the_commit_and_pull_request_that_last_changed_it(repo: Path) -> None:
    found = declarations(repo, {LOCAL[0]: repo / LOCAL[1]})

    qa = found[QA_LEAD]
    assert qa.location == "Pulumi.local.yaml:24"  # the line naming the principal
    assert qa.commit is not None and qa.commit.pull_request == 42, "a merge commit names the pull request"
    assert (qa.commit.subject, qa.commit.author) == ("=1+1 give qa-lead an expiry", "Quinn Reviewer")
    assert qa.commit.sha == git(repo, "rev-parse", "qa-expiry").strip()
    alice = found[ALICE]
    assert alice.commit is not None and alice.commit.pull_request == 57, "a squashed commit names it in its subject"
    assert alice.commit.author == "Ada Lead" and alice.location == "Pulumi.local.yaml:11"
    group = found[GROUP]
    assert group.commit is not None and group.commit.subject == "Stack files" and group.commit.pull_request is None
    assert group.location == "Pulumi.local.yaml:27"  # one line further down: qa-lead's expiry was added above


def test_a_declaration_changed_and_not_committed_says_so(repo: Path) -> None:
    edit(repo / LOCAL[1], "remark: Nightly IM statistics export", "remark: Hourly IM statistics export")
    found = declarations(repo, {LOCAL[0]: repo / LOCAL[1]})
    assert found[BOT].commit is None and found[BOT].history == "changed and not committed yet"
    assert found[ALICE].commit is not None


def test_without_history_the_report_says_why_and_names_no_commit(repo: Path, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", repo.as_uri(), str(shallow)], check=True)
    assert History(shallow).problem.startswith("shallow clone")
    found = declarations(shallow, {LOCAL[0]: shallow / LOCAL[1]})
    assert found[ALICE].commit is None and "fetch-depth: 0" in found[ALICE].history

    plain = tmp_path / "plain"
    plain.mkdir()
    shutil.copy(repo / LOCAL[1], plain / LOCAL[1])
    found = declarations(plain, {LOCAL[0]: plain / LOCAL[1]})
    assert found[ALICE].commit is None and found[ALICE].history == "not a git checkout: no history"


# ---- CSV and HTML -------------------------------------------------------------------------------

ROW = Row(
    stack="local", principal="user:qa-lead", via_group="", level="readonly", policy="QcloudIMReadOnlyAccess",
    policy_id=900001, declared_at="Pulumi.local.yaml:22", commit="0123456789", commit_date="2026-11-24",
    commit_author="Dana", commit_subject="Stack files", pull_request="#42", history_note="",
    break_glass_approver="", break_glass="", expires="2030-01-01", held_since="2026-12-02",
    last_console_login="never", api_keys_last_used="", idle_days="0", findings="", what_to_do="",
)  # fmt: skip
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'=cmd"),
        ("\r=cmd", "'=cmd"),
        ("\uff1d1+2", "'\uff1d1+2"),
        ("user:=1+2", "user:=1+2"),
        ('a,b "c"\nd', 'a,b "c" d'),
        (None, ""),
    ],
)
def test_a_csv_cell_never_starts_a_formula(text: object, cell: str) -> None:
    assert escape.csv_cell(text) == cell


def test_the_csv_parses_back_into_the_same_rows() -> None:
    tricky = dataclasses.replace(
        ROW, principal="user:=1+2", policy="=HYPERLINK(\"http://x\",\"y\")", commit_subject="a, \"quoted\"\nsubject",
        what_to_do="-rm", break_glass_approver="@lead",
    )  # fmt: skip
    rows = [ROW, tricky]
    parsed = list(csv.reader(io.StringIO(to_csv(rows), newline="")))
    assert parsed[0] == list(COLUMNS)
    assert parsed[1:] == [[escape.csv_cell(value) for value in dataclasses.astuple(row)] for row in rows]
    assert parsed[2][COLUMNS.index("policy")] == '\'=HYPERLINK("http://x","y")'


def test_the_html_shows_untrusted_names_as_text() -> None:
    row = dataclasses.replace(ROW, policy=HOSTILE, commit_subject="</td><script>alert(1)</script>", via_group="\"'><b>")
    finding = Finding("unused", "user:qa-lead", HOSTILE, 1, f"revoke {HOSTILE}", "local")
    html = render_html([row], [finding], ['local"><i>'], dt.date(2026, 12, 2), 90)
    assert "<img" not in html and "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    tags = Tags()
    tags.feed(html)
    assert not {"img", "script", "b", "i"} & {tag for tag, _ in tags.found}
    attributes = [name for _, attrs in tags.found for name, _ in attrs]
    loading = [name for name in attributes if name in ("src", "href") or name.startswith("on")]
    assert loading == [], "no element loads anything or runs a handler"
    assert ("data-policy", HOSTILE) in [attr for _, attrs in tags.found for attr in attrs], "kept whole, as text"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def review(out: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "commands.review", "--out", str(out), *args]
    variables = {"PATH": "/usr/bin:/bin", "TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "x", **env}
    return subprocess.run(command, cwd=ROOT, env=variables, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--stack", "nope"), "no Pulumi.nope.yaml"),
        (("--stack", "local", "--unused-days", "0"), "allowed: a whole number of days from 1 to 3650"),
        (("--stack", "local"), "review: could not review local: "),  # nothing listens on the proxy's port
    ],
)
def test_a_review_that_cannot_run_says_why_and_writes_nothing(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    result = review(tmp_path / "out", *args, HTTP_PROXY="http://127.0.0.1:9")
    assert result.returncode == 2
    assert says in result.stderr.splitlines()[-1] and "Traceback" not in result.stderr
    assert result.stdout == "" and not (tmp_path / "out").exists()


# ---- rows -----------------------------------------------------------------------------------------


def test_rows_name_the_break_glass_approver_the_expiry_and_what_expires_soon() -> None:
    today = dt.date(2026, 11, 26)
    added = dt.date(2026, 11, 25)
    oncall = Holding("user:im-stg-oncall", "QcloudAVCFullAccess", 524252, True, True, uin=9, since=added)
    ops = Holding("group:90001", "QcloudAVCFullAccess", 524252, True, True, since=dt.date(2026, 11, 25))
    declared = {
        "staging": [
            Declared("staging", "user:im-stg-oncall", "QcloudAVCFullAccess", dt.date(2026, 12, 10)),
            Declared("staging", "group:90001", "QcloudAVCFullAccess", None),
        ]
    }
    members = {"group:90001": [Member("user:qa-lead", 7, dt.date(2026, 11, 25))]}
    account = Account("1", ["staging"], declared, [oncall, ops], members, {"user:qa-lead": Usage(today)})
    group_exception = {**VALID, "principal": "group:90001", "approver": "cto"}
    exceptions = parse_exceptions({"exceptions": [VALID, group_exception]}, ["staging"])
    where = Declaration("Pulumi.staging.yaml", 8, None, "not a git checkout: no history")

    rows = build_rows([account], {("staging", oncall.key): where}, exceptions, today)

    by_principal = {row.principal: row for row in rows}
    direct, member = by_principal["user:im-stg-oncall"], by_principal["user:qa-lead"]
    assert (direct.break_glass_approver, direct.expires) == ("security-lead@example.com", "2026-12-10")
    assert direct.level == "full"
    assert direct.break_glass.startswith("#1 in force, expires 2026-11-27: INC-1234")
    assert (direct.declared_at, direct.commit) == ("Pulumi.staging.yaml:8", "")
    assert direct.history_note == "not a git checkout: no history"
    assert (member.via_group, member.break_glass_approver) == ("group:90001", "cto")
    assert member.last_console_login == "2026-11-26"
    assert member.declared_at == "Pulumi.staging.yaml" and not member.unmanaged, "declared, its line not found"
    summary = summarise(rows, today)
    assert [row.principal for row in summary.expiring] == ["user:im-stg-oncall"]
    assert summary.holders == {("staging", "full"): 2}
    lapsed = build_rows([account], {}, exceptions, dt.date(2026, 11, 28))
    assert next(r for r in lapsed if r.principal == "user:im-stg-oncall").break_glass.startswith("#1 lapsed")


def test_a_reach_finding_shows_its_path_in_the_review() -> None:
    """A principal reaching IM full access by CAM write holds no IM policy, so no row: the findings show it."""
    path = "user:qa-lead -> policy console-helper allows 'name/cam:AttachUserPolicy', which covers cam:AttachUserPolicy"
    finding = Finding("reach", "user:qa-lead", "policy console-helper", None, f"{path}; remove that policy", None)
    html = render_html([ROW], [finding], ["local"], dt.date(2026, 12, 2), 90)
    table = html[html.index('<table id="findings"') :]
    assert '<span class="tag reach">reach</span>' in table
    assert "user:qa-lead -&gt; policy console-helper allows &#39;name/cam:AttachUserPolicy&#39;" in table
