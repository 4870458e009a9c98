"""Runs the real `__main__.py` under Pulumi mocks and records what it registers.

The mocks stand in for the engine and the Tencent Cloud provider only; the program, the
components and the Pulumi SDK all run for real.
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import massage

from im_access.config import read_stack_file

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
# localcloud's route as scripts/with_localcloud.sh sets it (no localcloud listening needed where only
# the route is judged): both proxies on a loopback address, NO_PROXY for loopback only.
LOCALCLOUD_ROUTE = {
    "HTTP_PROXY": "http://127.0.0.1:18080",
    "HTTPS_PROXY": "http://127.0.0.1:18080",
    "NO_PROXY": "127.0.0.1,localhost",
}

USER = "tencentcloud:Cam/user:User"
POLICY = "tencentcloud:Cam/policy:Policy"
USER_ATTACHMENT = "tencentcloud:Cam/userPolicyAttachment:UserPolicyAttachment"
GROUP_ATTACHMENT = "tencentcloud:Cam/groupPolicyAttachment:GroupPolicyAttachment"
GET_POLICIES = "tencentcloud:Cam/getPolicies:getPolicies"

# What the preset catalogue of a test account answers to ListPolicies (type 2), including a
# near-miss name that must never be picked for IM.
PRESET_CATALOGUE = {
    "QcloudIMReadOnlyAccess": 900001,  # as policy_pack/approvals.yaml presetPolicies lists it
    "QcloudAVCFullAccess": 524252,
    "QcloudIMSFullAccess": 700002,
}

# The wire marker Pulumi uses for a secret value.
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    id: str
    state: dict[str, Any]
    urn: str = ""
    parent: str = ""
    additional_secret_outputs: list[str] = field(default_factory=list)


class CloudMocks(pulumi.runtime.Mocks):
    """Answers like CAM would: users get a UIN and generated credentials, policies get ids."""

    def __init__(self) -> None:
        self.resources: list[Registered] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._next_id = 1000

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self._next_id += 1
        state = dict(args.inputs)
        resource_id = f"{args.name}-id"
        if args.typ == USER:
            name = args.inputs["name"]
            state["uin"] = 200000000000 + self._next_id
            if args.inputs.get("consoleLogin"):
                state["password"] = f"Generated-Pw-{name}-{self._next_id}!"
            if args.inputs.get("useApi"):
                state["secretId"] = f"AKID{name}{self._next_id}"
                state["secretKey"] = f"SK{name}{self._next_id}"
            resource_id = name
        elif args.typ == POLICY:
            resource_id = str(self._next_id)
        elif args.typ == USER_ATTACHMENT:
            resource_id = f"{args.inputs['userName']}#{args.inputs['policyId']}"
        elif args.typ == GROUP_ATTACHMENT:
            resource_id = f"{args.inputs['groupId']}#{args.inputs['policyId']}"
        self.resources.append(Registered(args.typ, args.name, dict(args.inputs), resource_id, state))
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.calls.append((args.token, dict(args.args)))
        if args.token != GET_POLICIES:
            raise AssertionError(f"unexpected invoke {args.token}")
        wanted = args.args.get("name", "")
        # Like the provider: a substring filter on the name, preset type only.
        matches = [
            {"name": name, "policyId": str(policy_id), "type": 2}
            for name, policy_id in PRESET_CATALOGUE.items()
            if wanted in name
        ]
        return {"policyLists": matches}, []


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping the wire form of registrations and registered outputs."""

    def __init__(self, mocks: CloudMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Any] = []
        self.urns: dict[int, str] = {}  # id(request) -> the URN the monitor answered with
        self.registered_outputs: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.registrations.append(request)
        response = super().RegisterResource(request)
        self.urns[id(request)] = response.urn
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.registered_outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)


@dataclass
class ProgramRun:
    mocks: CloudMocks
    monitor: RecordingMonitor
    namespace: dict[str, Any]
    stack: str

    def of_type(self, type_token: str) -> list[Registered]:
        return [resource for resource in self.mocks.resources if resource.type == type_token]

    @property
    def component_registrations(self) -> list[Any]:
        return [r for r in self.monitor.registrations if r.type.startswith("im-access:")]

    @property
    def stack_outputs(self) -> dict[str, Any]:
        """The stack's exports as they go over the wire to the engine (and into state)."""
        return self.monitor.registered_outputs[self.stack_urn]

    @property
    def stack_urn(self) -> str:
        return next(
            urn
            for urn in self.monitor.registered_outputs
            if urn.endswith("::pulumi:pulumi:Stack::im-access-" + self.stack)
        )

    def wire_registration(self, name: str) -> Any:
        return next(r for r in self.monitor.registrations if r.name == name)


def stack_file_config(stack: str) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml."""
    return read_stack_file(ROOT / f"Pulumi.{stack}.yaml")


def run_program(
    stack: str,
    config: Mapping[str, Any],
    *,
    preview: bool = False,
    observe: Callable[[ProgramRun], None] | None = None,
) -> ProgramRun:
    """Run `__main__.py` for `stack` with a flat config map (`im-access:operators`: [...], ...).

    `observe` receives the run before the program starts, so a test can inspect it even when
    the program raises.
    """
    mocks = CloudMocks()
    monitor = RecordingMonitor(mocks)
    # A fresh root stack resource for each run: set_mocks keeps an earlier run's (its stack name and
    # monitor) when one exists, and this run's outputs would then be registered under that one.
    pulumi.runtime.reset_options()
    pulumi.runtime.set_mocks(mocks, project="im-access", stack=stack, preview=preview, monitor=monitor)
    # Pulumi hands structured config to programs as JSON text.
    pulumi.runtime.set_all_config(
        {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    )
    run = ProgramRun(mocks, monitor, {}, stack)
    if observe is not None:
        observe(run)

    @pulumi.runtime.test
    def execute() -> None:
        run.namespace.update(runpy.run_path(str(PROGRAM), run_name="__main__"))
        # The mock runtime registers the stack's outputs before the program runs; register the
        # program's exports the way the real entry point does when the program ends.
        root = get_root_resource()
        root.register_outputs(massage(root.outputs, []))  # type: ignore[union-attr]

    execute()
    return run
