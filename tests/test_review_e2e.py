"""The access review after the main job, as an auditor gets it: `make local-up`, then changes made in
the console (through the official SDK), then `make review STACK=local`, opened in a real
browser (Debian's chromium, headless, driven by Playwright). The page makes no request and logs no
error, holds one row per holding with its findings, shows hostile names as text, and the CSV holds
the same rows.

The screenshot is kept at reports/access-review-<date>.png (the report's date: 120 days from today,
through IM_ACCESS_TODAY, so that access granted today counts as unused), and in the test's tmp dir.

Only the engine shows the account the documented command line really leaves, as the review reads it.
The review's rows and findings are tested on fixed holdings (tests/test_review.py); one deploy serves
the module.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, sync_playwright

from tests.checkout import checkout_copy
from tests.engine_project import require_engine
from tests.localcloud_process import CAM_LAG, ROOT, LocalCloudProcess, call, policy_id

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REPORT_DAY = dt.date.today() + dt.timedelta(days=120)
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"
FORMULA = '=HYPERLINK("http://attacker.example","open")'
IM_FULL_ID = 524252
IM_ACTION = json.dumps(
    {"version": "2.0", "statement": [{"effect": "allow", "action": "name/im:RemoveUser", "resource": "*"}]}
)


# The module's tests read one deployed stack (`make local-up`, then `make review`): they run on one
# worker, in order, so it is deployed once (`make test` uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("review")


@dataclass
class Reviewed:
    html: Path
    csv: Path
    group: str
    stats_bot_key: str
    make_stdout: str


def make(checkout: Path, state: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # As from a shell: under `make test` the inherited MAKELEVEL would make it print "Entering directory".
    shell = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    variables = {
        **shell,
        "LOCALCLOUD_STATE": str(state),
        "LOCALCLOUD_PORT": "0",
        "LOCALCLOUD_ARGS": " ".join(CAM_LAG),
        **env,
    }
    return subprocess.run(["make", *args], cwd=checkout, env=variables, capture_output=True, text=True, timeout=600)


@dataclass
class Deployed:
    checkout: Path
    state: Path
    up: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """`make local-up` in a copy of the checkout (the commands write into their checkout); the run
    itself, twice and with every next step it prints, is tests/test_local_up_e2e.py's."""
    require_engine()
    workdir = tmp_path_factory.mktemp("local-up")
    checkout = checkout_copy(workdir / "checkout")
    state = workdir / "localcloud" / "state.db"
    return Deployed(checkout, state, make(checkout, state, "local-up"))


@pytest.fixture(scope="module")
def reviewed(deployed: Deployed) -> Iterator[Reviewed]:
    """After the test above: console changes, recorded use, then `make review`."""
    assert Path(CHROMIUM).exists(), "chromium is missing: run `make setup` (as root on Debian it installs it)"
    checkout, state = deployed.checkout, deployed.state
    assert deployed.up.returncode == 0, deployed.up.stdout + deployed.up.stderr
    with LocalCloudProcess(state, *CAM_LAG) as cloud:
        cam = cloud.cam()
        read_only = policy_id(cam, "QcloudIMReadOnlyAccess")
        alice = call(cam, "GetUser", Name="im-local-alice")["Uin"]
        bot = call(cam, "GetUser", Name="im-local-stats-bot")["Uin"]
        # A user named like a spreadsheet formula (a valid CAM name) gets read-only by hand.
        formula_user = call(cam, "AddUser", Name="=1+2")["Uin"]
        call(cam, "AttachUserPolicy", PolicyId=read_only, AttachUin=formula_user)
        # A console-made group with IM full access, with a managed operator among its members.
        ops = call(cam, "CreateGroup", GroupName="console-ops")["GroupId"]
        call(cam, "AddUserToGroup", Info=[{"Uin": alice, "GroupId": ops}, {"Uin": formula_user, "GroupId": ops}])
        call(cam, "AttachGroupPolicy", PolicyId=IM_FULL_ID, AttachGroupId=ops)
        # Custom IM policies whose names are markup and a formula. CAM's name rules are not the
        # report's defence: store them as an account might hold them.
        for stand_in, name in (("hostile-markup", HOSTILE), ("hostile-formula", FORMULA)):
            created = call(cam, "CreatePolicy", PolicyName=stand_in, PolicyDocument=IM_ACTION)["PolicyId"]
            call(cam, "AttachUserPolicy", PolicyId=created, AttachUin=formula_user)
            with sqlite3.connect(state) as db:
                db.execute("UPDATE policies SET name = ? WHERE policy_id = ?", (name, created))
        (key,) = call(cam, "ListAccessKeys", TargetUin=bot)["AccessKeys"]
    # Use as CAM records it: qa-lead logged in 20 days before the report, the bot's key worked the day before.
    recorded = subprocess.run(
        [sys.executable, "-m", "localcloud", "record-use", "--state", str(state),
         "--login", f"qa-lead={REPORT_DAY - dt.timedelta(days=20)}",
         "--key", f"{key['AccessKeyId']}={REPORT_DAY - dt.timedelta(days=1)}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr

    result = make(checkout, state, "review", "STACK=local", IM_ACCESS_TODAY=REPORT_DAY.isoformat())

    assert result.returncode == 0, result.stdout + result.stderr
    html, csv_path = (Path(line) for line in result.stdout.split())
    assert html == checkout / "reports" / f"access-review-{REPORT_DAY}.html"
    assert csv_path == html.with_suffix(".csv")
    yield Reviewed(html, csv_path, f"group:{ops}", key["AccessKeyId"], result.stdout)


EXPECTED = {  # (stack, principal, through group, policy) -> findings
    # A finding about a principal's own credentials (no-mfa, stale-key) is on each of its rows.
    ("local", "user:im-local-alice", "", "QcloudIMReadOnlyAccess"): "unused; no-mfa",
    ("local", "user:im-local-stats-bot", "", "im-access-local-im-local-stats-bot"): "stale-key",
    ("local", "user:qa-lead", "", "QcloudIMReadOnlyAccess"): "",
    ("local", "user:qa-lead", "group:90001", "QcloudIMReadOnlyAccess"): "",
    ("", "user:im-local-alice", "GROUP", "QcloudAVCFullAccess"): "unmanaged; unused; full-access-off-approved; no-mfa",
    ("", "user:=1+2", "GROUP", "QcloudAVCFullAccess"): "unmanaged; unused; no-mfa",
    ("", "user:=1+2", "", "QcloudIMReadOnlyAccess"): "unmanaged; unused; no-mfa",
    ("", "user:=1+2", "", HOSTILE): "unmanaged; unused; no-mfa",
    ("", "user:=1+2", "", FORMULA): "unmanaged; unused; no-mfa",
}


def expected(group: str) -> dict[tuple[str, str, str, str], str]:
    return {(s, p, group if via == "GROUP" else via, policy): kinds for (s, p, via, policy), kinds in EXPECTED.items()}


def test_the_report_opens_in_a_browser_with_no_error_no_request_and_the_expected_rows(
    reviewed: Reviewed, tmp_path: Path
) -> None:
    url = reviewed.html.as_uri()
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1600, "height": 1000})

        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                problems.append(f"console {message.type}: {message.text}")

        def on_dialog(dialog: Dialog) -> None:
            problems.append(f"dialog: {dialog.message}")
            dialog.dismiss()

        page.on("console", on_console)
        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url, wait_until="load")
        page.wait_for_timeout(300)  # anything an injected handler would do has happened by now
        rows = page.eval_on_selector_all(
            "#holdings tbody tr",
            "trs => trs.map(tr => [...tr.cells].map(td => td.innerText.trim())"
            ".concat([tr.dataset.via, tr.dataset.findings]))",
        )
        images = page.eval_on_selector_all("img", "nodes => nodes.length")
        title = page.title()
        policy_cells = page.eval_on_selector_all("#holdings td.policy", "tds => tds.map(td => td.textContent)")
        shot = page.screenshot(full_page=True)
        browser.close()
    for path in (tmp_path / "access-review.png", reviewed.html.with_suffix(".png")):
        path.write_bytes(shot)

    assert problems == []
    assert requests == [url], "the report fetches nothing: no script, font, image or style from anywhere"
    assert title == f"IM access review {REPORT_DAY}" and images == 0
    assert any(cell.startswith(HOSTILE + " (") for cell in policy_cells), "the markup is shown as text"
    # Cells: stack, principal (and the group it holds through), level, policy (id), declared at (and
    # last change), break-glass, dates, API keys, findings; then the row's via and findings data.
    found = {(r[0].replace("—", ""), r[1].split("\n")[0], r[-2], r[3].rsplit(" (", 1)[0]): r[-1] for r in rows}
    assert found == expected(reviewed.group)
    alice_full = next(r for r in rows if r[1].startswith("user:im-local-alice") and r[-2] == reviewed.group)
    assert alice_full[1] == f"user:im-local-alice\nthrough {reviewed.group}"
    assert alice_full[4].split("\n")[0] == "unmanaged" and alice_full[2] == "full"
    declared = next(r for r in rows if r[1] == "user:im-local-alice" and r[-2] == "")
    assert declared[4].split("\n")[0] == "Pulumi.local.yaml:11" and "idle 120 days" in declared[8]
    bot = next(r for r in rows if r[1] == "user:im-local-stats-bot")
    assert bot[7].endswith(f"{REPORT_DAY - dt.timedelta(days=1)}") and "idle 1 days" in bot[8]
    assert "stale-key" in bot[8], "a finding about the principal's key is in its row"


def test_the_csv_parses_back_into_the_same_rows_with_formulas_disarmed(reviewed: Reviewed) -> None:
    with reviewed.csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = {(r["stack"], r["principal"], r["via_group"], r["policy"].removeprefix("'")): r["findings"] for r in rows}
    assert found == expected(reviewed.group)
    formula = next(r for r in rows if "HYPERLINK" in r["policy"])
    assert formula["policy"] == "'" + FORMULA, "a cell a spreadsheet would run starts with a quote"
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
    bot = next(r for r in rows if r["principal"] == "user:im-local-stats-bot")
    assert bot["last_console_login"] == "never" and bot["declared_at"] == "Pulumi.local.yaml:15"


def test_the_report_names_no_whole_key_identifier(reviewed: Reviewed) -> None:
    for path in (reviewed.html, reviewed.csv):
        text = path.read_text()
        assert reviewed.stats_bot_key not in text
        assert f"{reviewed.stats_bot_key[:4]}…{reviewed.stats_bot_key[-4:]}" in text


# Every element that holds one identifier (a principal, a policy or its id, a file:line, a key, a
# date, a finding's kind) and must never be broken inside itself.
IDENTIFIERS = "#holdings .id, #holdings .date, #holdings .tag, #findings .id, #findings .tag, .meta .date"
WRAPPED = """nodes => nodes.filter(node => node.getClientRects().length > 1).map(node => node.textContent)"""


@pytest.mark.parametrize("width", [1000, 1400])
def test_no_identifier_wraps_inside_itself_at_common_window_widths(reviewed: Reviewed, width: int) -> None:
    # An inline element broken over lines has one client rectangle per line: deterministic, no pixels.
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
    flags += ["--no-first-run", "--disable-sync"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(reviewed.html.as_uri(), wait_until="load")
        identifiers = page.eval_on_selector_all(IDENTIFIERS, "nodes => nodes.length")
        wrapped = page.eval_on_selector_all(IDENTIFIERS, WRAPPED)
        rows = page.eval_on_selector_all("#holdings tbody tr", "trs => trs.length")
        overflow = page.eval_on_selector_all(".scroll", "divs => divs.map(d => d.scrollWidth - d.clientWidth)")
        reviewed.html.with_name(f"{reviewed.html.stem}-{width}px.png").write_bytes(page.screenshot(full_page=True))
        browser.close()

    assert identifiers > 50, "the report marks its identifiers"
    assert wrapped == []
    assert rows == len(EXPECTED) and overflow == [0, 0], "every column of every row in view, nothing cut off"
