"""A stack file or a program never steers where the provider or the audit sends its requests: the
config check, the stack command, the pack over its protocol and the audit each refuse a domain, a
plain-HTTP protocol outside localcloud and any other endpoint-like provider key."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from im_access.config import ConfigurationError
from tests.analyzer_client import AnalyzerResource, PolicyPackProcess, mandatory
from tests.harness import LOCALCLOUD_ROUTE, ROOT, run_program, stack_file_config
from tests.localcloud_process import SECRET_ID, SECRET_KEY
from tests.pull_request import make_preview_localcloud, program_checkout

POLICY = "im-provider-endpoint-fixed"
PROVIDER = "pulumi:providers:tencentcloud"
GROUP = "tencentcloud:Cam/group:Group"
PIN = '["100012345678"]'  # as the engine hands the provider's list config over: JSON text
ELSEWHERE_ROLE = {"roleArn": "qcs::cam::uin/200098765432:roleName/deploy", "sessionName": "im-access"}
STEERING = [
    ({"tencentcloud:domain": "attacker.example"}, "tencentcloud:domain"),
    ({"tencentcloud:protocol": "HTTP"}, "plain HTTP is only for localcloud"),
    ({"tencentcloud:cosDomain": "attacker.example"}, "tencentcloud:cosDomain"),
    ({"tencentcloud:profile": "other"}, "tencentcloud:profile"),
]


@pytest.mark.parametrize(("keys", "problem"), STEERING)
def test_the_config_check_refuses_a_steered_endpoint_before_any_resource(
    keys: dict[str, str], problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    registered: list[Any] = []
    with pytest.raises(ConfigurationError) as raised:
        run_program("dev", {**stack_file_config("dev"), **keys}, observe=registered.append)
    assert problem in str(raised.value) and "allowed: allowedAccountIds, assumeRole, region" in str(raised.value)
    assert [r.type for r in registered[0].mocks.resources] == []


def test_only_the_local_stack_or_a_run_through_localcloud_speaks_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    run_program("local", stack_file_config("local"))
    run_program("dev", {**stack_file_config("dev"), "tencentcloud:protocol": "HTTPS"})
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.8:3128")  # a proxy elsewhere is no localcloud
    with pytest.raises(ConfigurationError):
        run_program("dev", {**stack_file_config("dev"), "tencentcloud:protocol": "HTTP"})
    for name, value in LOCALCLOUD_ROUTE.items():
        monkeypatch.setenv(name, value)
    run_program("dev", {**stack_file_config("dev"), "tencentcloud:protocol": "HTTP"})


def provider(stack_props: dict[str, Any]) -> AnalyzerResource:
    pinned = {"region": "ap-guangzhou", "version": "0.2.3", "allowedAccountIds": PIN}
    return AnalyzerResource(PROVIDER, "default_0_2_3", {**pinned, **stack_props})


@pytest.fixture(scope="module")
def dev_pack() -> Iterator[PolicyPackProcess]:
    env = {"HTTP_PROXY": "", "http_proxy": ""}
    with PolicyPackProcess("dev", extra_env=env) as pack:
        pack.configure({})
        yield pack


@pytest.mark.parametrize(
    "props",
    [{"domain": "attacker.example"}, {"protocol": "HTTP"}, {"cosDomain": "x"}, {"assumeRole": ELSEWHERE_ROLE}],
)
def test_the_pack_refuses_a_steered_provider_and_every_resource_it_serves(
    dev_pack: PolicyPackProcess, props: dict[str, Any]
) -> None:
    (key,) = props
    (on_provider,) = mandatory(dev_pack.analyze(provider(props)))
    assert on_provider.policy == POLICY and f"{key}" in on_provider.message
    served = AnalyzerResource(GROUP, "support", {"name": "support"}, provider=provider(props))
    assert [d.policy for d in mandatory(dev_pack.analyze(served))] == [POLICY]


def test_the_pack_passes_the_provider_as_the_stacks_configure_it(dev_pack: PolicyPackProcess) -> None:
    assert dev_pack.analyze(provider({})) == []
    assert dev_pack.analyze(provider({"protocol": "HTTPS"})) == []
    assert dev_pack.analyze(AnalyzerResource(GROUP, "support", {"name": "x"}, provider=provider({}))) == []


def test_the_pack_lets_localcloud_speak_http_and_nothing_else() -> None:
    with PolicyPackProcess("local", extra_env={"HTTP_PROXY": ""}) as pack:
        pack.configure({})
        assert pack.analyze(provider({"protocol": "HTTP"})) == []
        assert [d.policy for d in mandatory(pack.analyze(provider({"domain": "a.example"})))] == [POLICY]
    with PolicyPackProcess("dev", extra_env=LOCALCLOUD_ROUTE) as pack:
        pack.configure({})
        assert pack.analyze(provider({"protocol": "HTTP"})) == []


class _Recorder(http.server.BaseHTTPRequestHandler):
    hosts: list[str] = []  # noqa: RUF012 - shared by the server's handler instances

    def do_POST(self) -> None:
        _Recorder.hosts.append(self.headers.get("Host", ""))
        self.send_response(502)
        self.end_headers()

    do_CONNECT = do_POST  # noqa: N815

    def log_message(self, *_: object) -> None:
        pass


@pytest.mark.parametrize(("keys", "problem"), [*STEERING[:2], ({"tencentcloud:domain": "127.0.0.1:9"}, "domain")])
def test_the_audit_refuses_a_steering_stack_file_and_sends_nothing(
    tmp_path: Path, keys: dict[str, str], problem: str
) -> None:
    import yaml

    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": {**stack_file_config("dev"), **keys}}))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.hosts.clear()
    # Every request goes to a proxy that records it: it must see none, whatever the stack file says.
    # Plain HTTP is judged with a proxy that is no localcloud (a name that never resolves).
    recorder = f"http://127.0.0.1:{server.server_address[1]}"
    plain = keys.get("tencentcloud:protocol") == "HTTP"
    env = {
        "PATH": "/usr/bin:/bin",
        "TENCENTCLOUD_SECRET_ID": SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": SECRET_KEY,
        "HTTPS_PROXY": recorder,
        "HTTP_PROXY": "http://proxy.invalid:9" if plain else recorder,
    }
    try:
        command = [sys.executable, "-m", "commands.audit", "--stack", "dev", "--project", str(tmp_path)]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2, result.stdout + result.stderr
    assert problem in result.stderr and result.stdout == ""
    assert _Recorder.hosts == []


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"tencentcloud:domain": "attacker.example"}, "tencentcloud:domain: it would steer"),
        # Even through localcloud: only the local stack's file may ask for plain HTTP.
        ({"tencentcloud:protocol": "HTTP"}, "tencentcloud:protocol: plain HTTP is only for localcloud"),
    ],
)
def test_make_preview_localcloud_refuses_a_stack_file_that_steers_the_provider(
    tmp_path: Path, keys: dict[str, str], problem: str
) -> None:
    import yaml

    project = program_checkout(tmp_path / "pr")
    steered = {"config": {**stack_file_config("dev"), **keys}}
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(steered))
    result = make_preview_localcloud(project, tmp_path, timeout=300)
    assert result.returncode != 0
    assert f"stack: Pulumi.dev.yaml: {problem}" in result.stderr, result.stdout + result.stderr
    assert "Previewing" not in result.stdout  # refused before the engine ran


def test_the_plugin_version_allowed_is_the_one_setup_installs() -> None:
    from commands.engine import pinned_versions
    from im_access.provider_config import PLUGIN_VERSION

    assert pinned_versions()["TENCENTCLOUD_PLUGIN_VERSION"] == PLUGIN_VERSION


def test_the_pack_refuses_a_provider_asking_for_another_plugin_version(dev_pack: PolicyPackProcess) -> None:
    (found,) = mandatory(dev_pack.analyze(provider({"version": "0.1.9"})))
    assert found.policy == POLICY
    assert "version: '0.1.9' would run another provider plugin than the one installed" in found.message


def test_no_engine_run_acquires_a_plugin() -> None:
    """A provider's pluginDownloadURL never reaches the pack: the engine must not fetch anything."""
    from commands.engine import engine_env

    assert (
        engine_env({"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "false"})[
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"
        ]
        == "true"
    )


PROJECT_FILE_ADDITIONS = [
    ("plugins:\n  providers:\n    - name: tencentcloud\n      path: ./bin\n", "Pulumi.yaml: plugins: not allowed here"),
    ("stackConfigDir: cfg\n", "Pulumi.yaml: stackConfigDir: not allowed here"),
    ("backend:\n  url: file:///tmp/x\n", "Pulumi.yaml: backend: not allowed here"),
    ("  tencentcloud:domain:\n    value: attacker.example\n", "config.tencentcloud:domain: only im-access keys"),
    ("  operators:\n    default: []\n", "config.operators: a declaration only"),
]


@pytest.mark.parametrize(("addition", "problem"), PROJECT_FILE_ADDITIONS)
def test_the_stack_command_refuses_a_project_file_that_steers_the_engine(
    tmp_path: Path, addition: str, problem: str
) -> None:
    """Plugins, stack files elsewhere, a backend, provider settings or values in the project file would
    each get past the checks made on the stack files."""
    from commands import stack
    from tests.checkout import checkout_copy

    project = checkout_copy(tmp_path / "project")
    (project / "Pulumi.yaml").write_text((project / "Pulumi.yaml").read_text() + addition)
    with pytest.raises(stack.StackFileError) as raised:
        stack.check_stack_files("dev", project, project / "policy_pack")
    assert problem in str(raised.value)
    assert stack.check_stack_files("dev", ROOT, ROOT / "policy_pack")  # the reviewed file passes
