"""The environment of a run steers the provider no more than a stack file may: a domain, a protocol,
a profile, a role to assume or an MFA session in `TENCENTCLOUD_*` variables is refused by the stack
command before the engine starts (exit 2), by the program's config check before any resource, and
by the pack on every provider, over its protocol. The list is checked against the variables the
installed provider actually reads. Plain HTTP is localcloud's only: a loopback HTTP proxy that
Tencent Cloud's hosts do not bypass."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from commands import engine
from im_access.break_glass import today
from im_access.config import ConfigurationError
from im_access.provider_config import STEERING_ENV
from tests.analyzer_client import DEFAULT_PROVIDER, AnalyzerResource, PolicyPackProcess, mandatory
from tests.harness import LOCALCLOUD_ROUTE, ROOT, run_program, stack_file_config

ENDPOINT = "im-provider-endpoint-fixed"
# What the provider also reads and what may vary per run: the credentials, the region (the stack
# file's wins), timeouts and the request client's label; one variable only its own tests use.
HARMLESS = {
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_SECURITY_TOKEN",
    "TENCENTCLOUD_REGION",
    "TENCENTCLOUD_API_REQUEST_CLIENT",
}
STEERING_SAMPLES = [
    ("TENCENTCLOUD_DOMAIN", "attacker.example"),
    ("TENCENTCLOUD_ASSUME_ROLE_ARN", "qcs::cam::uin/200098765432:roleName/admin"),
    ("TENCENTCLOUD_PROFILE", "other"),
    ("TENCENTCLOUD_CAM_ROLE_NAME", "cvm-role"),
]


def provider_variables() -> set[str]:
    """The TENCENTCLOUD_ variables named in the installed provider plugin's binary."""
    (binary,) = engine.PULUMI_HOME.glob("plugins/resource-tencentcloud-v*/pulumi-resource-tencentcloud")
    found = re.findall(rb"TENCENTCLOUD_(?:(?!TENCENTCLOUD_)[A-Z_])+", binary.read_bytes())
    return {name.decode() for name in found}


def test_every_variable_the_provider_reads_is_judged() -> None:
    read = provider_variables()
    assert read >= STEERING_ENV, STEERING_ENV - read  # each refused variable is one the provider reads
    unjudged = {
        name
        for name in read - STEERING_ENV - HARMLESS
        if not name.endswith("_TIMEOUT") and not name.startswith("TENCENTCLOUD_ENV_TESTING_")
    }
    assert unjudged == set(), "classify these provider variables in im_access/provider_config.py"


@pytest.mark.parametrize(("name", "value"), STEERING_SAMPLES)
def test_the_config_check_refuses_a_steering_variable_before_any_resource(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    registered: list[Any] = []
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", stack_file_config("dev"), observe=registered.append)
    assert any(p.startswith(f"environment variable {name}: ") for p in raised.value.problems), raised.value.problems
    assert registered[0].mocks.resources == []


def test_the_pack_refuses_every_provider_of_an_engine_run_with_a_steering_variable() -> None:
    with PolicyPackProcess("dev", extra_env={"TENCENTCLOUD_ASSUME_ROLE_ARN": STEERING_SAMPLES[1][1]}) as pack:
        pack.configure({})
        (on_provider,) = mandatory(pack.analyze(DEFAULT_PROVIDER))
        served = AnalyzerResource("tencentcloud:Cam/group:Group", "g", {"name": "g"}, provider=DEFAULT_PROVIDER)
        assert [d.policy for d in mandatory(pack.analyze(served))] == [ENDPOINT]
    assert on_provider.policy == ENDPOINT
    assert "environment variable TENCENTCLOUD_ASSUME_ROLE_ARN: it would change where" in on_provider.message


def test_the_stack_command_stops_a_steered_run_before_the_engine(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TENCENTCLOUD_DOMAIN": "attacker.example",
        "TENCENTCLOUD_PROFILE": "other",
        "TENCENTCLOUD_REGION": "ap-singapore",  # the region may vary per run
        "IM_ACCESS_CAM_LAG_MS": "soon",
        "PULUMI_BACKEND_URL": f"file://{tmp_path}",
    }
    result = subprocess.run(
        ["make", "preview", "STACK=dev"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("stack: ")]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "environment variable TENCENTCLOUD_DOMAIN: " in lines[0]
    assert "environment variable TENCENTCLOUD_PROFILE: " in lines[0]
    assert "IM_ACCESS_CAM_LAG_MS='soon': allowed: a whole number of milliseconds from 0 to 60000" in lines[0]
    assert "TENCENTCLOUD_REGION" not in lines[0]
    assert not list(tmp_path.iterdir()), "nothing reached the backend"


def test_the_audit_refuses_a_lag_that_is_no_number_before_any_request() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TENCENTCLOUD_SECRET_ID": "AKIDunused",
        "TENCENTCLOUD_SECRET_KEY": "unused",
        "HTTPS_PROXY": "http://127.0.0.1:9",  # nothing listens: a request would fail otherwise
        "IM_ACCESS_CAM_LAG_MS": "10s",
    }
    command = [sys.executable, "-m", "commands.audit", "--stack", "dev"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("audit: could not audit dev: IM_ACCESS_CAM_LAG_MS='10s': allowed: a whole number")
    assert len(result.stderr.splitlines()) == 1


ROUTE_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy")


def set_route(monkeypatch: pytest.MonkeyPatch, route: dict[str, str]) -> None:
    for name in (*ROUTE_VARIABLES, "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in route.items():
        monkeypatch.setenv(name, value)


NOT_LOCALCLOUD = [
    {**LOCALCLOUD_ROUTE, "NO_PROXY": "*"},
    {**LOCALCLOUD_ROUTE, "NO_PROXY": "localhost,.TencentCloudAPI.com"},
    {**LOCALCLOUD_ROUTE, "NO_PROXY": "*.tencentcloudapi.com"},
    {**LOCALCLOUD_ROUTE, "NO_PROXY": "organization.tencentcloudapi.com"},
    {**LOCALCLOUD_ROUTE, "NO_PROXY": "\uff54\uff45\uff4e\uff43\uff45\uff4e\uff54cloudapi.com"},  # fullwidth
    {**LOCALCLOUD_ROUTE, "HTTP_PROXY": "socks5://127.0.0.1:1080"},
    {**LOCALCLOUD_ROUTE, "HTTP_PROXY": "http://10.0.0.8:3128"},
    {"HTTP_PROXY": LOCALCLOUD_ROUTE["HTTP_PROXY"]},  # HTTPS would go straight to the cloud
    {**LOCALCLOUD_ROUTE, "HTTPS_PROXY": ""},
    {**LOCALCLOUD_ROUTE, "REQUEST_METHOD": "GET"},  # with which Go ignores HTTP_PROXY
    # Values Go cannot parse, and so reads as no proxy (straight to the cloud), or as another host.
    {**LOCALCLOUD_ROUTE, "HTTPS_PROXY": "http://127.0.0.1:18080/%zz"},
    {**LOCALCLOUD_ROUTE, "HTTPS_PROXY": "http://127.0.0.1:18080\n"},
    {**LOCALCLOUD_ROUTE, "HTTP_PROXY": "http://127.0.0.1:18080x"},
    {**LOCALCLOUD_ROUTE, "HTTP_PROXY": "http://a\\b@127.0.0.1:18080"},
    {**LOCALCLOUD_ROUTE, "HTTPS_PROXY": "http://[::1]x:18080"},
]


@pytest.mark.parametrize("route", NOT_LOCALCLOUD)
def test_plain_http_and_a_date_of_its_own_are_refused_where_the_route_is_not_surely_localcloud(
    route: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests that could reach the cloud (a bypass in NO_PROXY, HTTPS not through the proxy, a proxy
    that is not a plain HTTP one on this machine) are no rehearsal through localcloud."""
    set_route(monkeypatch, route)
    monkeypatch.setenv("IM_ACCESS_TODAY", "2026-01-01")
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", {**stack_file_config("dev"), "tencentcloud:protocol": "HTTP"})
    problems = raised.value.problems
    assert any("plain HTTP is only for localcloud" in p for p in problems), problems
    assert any(p.startswith("environment variable IM_ACCESS_TODAY: it would move the date") for p in problems)
    assert today() == dt.datetime.now(dt.UTC).date()


def test_localclouds_own_route_speaks_http_and_sets_the_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """As scripts/with_localcloud.sh sets it: both proxies on a loopback address, NO_PROXY for loopback."""
    set_route(monkeypatch, LOCALCLOUD_ROUTE)
    monkeypatch.setenv("IM_ACCESS_TODAY", "2026-01-01")
    assert run_program("dev", {**stack_file_config("dev"), "tencentcloud:protocol": "HTTP"}).mocks.resources
    assert today() == dt.date(2026, 1, 1)


def test_a_protocol_that_only_upper_cases_to_https_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", {**stack_file_config("dev"), "tencentcloud:protocol": "http\u017f"})
    assert any(p.startswith("tencentcloud:protocol: ") for p in raised.value.problems)


def test_the_guardrails_date_is_the_same_in_every_time_zone() -> None:
    """UTC+14 and UTC-12 are always on different dates: the date the guardrails judge by is UTC's."""
    program = "from im_access.break_glass import today; print(today())"
    clean = {k: v for k, v in os.environ.items() if k != "IM_ACCESS_TODAY"}
    dates = {
        subprocess.run(
            [sys.executable, "-c", program], cwd=ROOT, env={**clean, "TZ": zone}, capture_output=True, text=True
        ).stdout.strip()
        for zone in ("Etc/GMT-14", "Etc/GMT+12")
    }
    assert len(dates) == 1 and dt.date.fromisoformat(dates.pop())
