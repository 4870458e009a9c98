"""Starts the policy pack as the engine does and talks to it over the analyzer gRPC protocol.

The pack runs in a child process that prints its port; the engine's stack settings reach it
through the same environment variables the engine sets (PULUMI_STACK, PULUMI_PROJECT, ...).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tests.policy_args import PROVIDER_PROPS, PROVIDER_TYPE, as_registered

ROOT = Path(__file__).resolve().parent.parent
POLICY_PACK = ROOT / "policy_pack"


def pack_copy(folder: Path, files: Mapping[str, str]) -> Path:
    """A copy of the policy pack in `folder`, with each of `files` (name: text) written over its own."""
    shutil.copytree(POLICY_PACK, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


@dataclass
class AnalyzerResource:
    type: str
    name: str
    properties: Mapping[str, Any]
    parent: str = ""
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    urn: str = ""
    provider: AnalyzerResource | None = None  # the provider resource, as the engine sends it along

    def __post_init__(self) -> None:
        if not self.urn:
            self.urn = f"urn:pulumi:test::im-access::{self.type}::{self.name}"
        if self.provider is None and self.type.startswith("tencentcloud:"):
            self.provider = DEFAULT_PROVIDER  # as the engine sends a resource: with its provider
        self.properties = as_registered(self.type, self.properties)


# The engine's default provider as every stack of the project configures it: pinned to its account.
DEFAULT_PROVIDER = AnalyzerResource(PROVIDER_TYPE, "default_0_2_3", PROVIDER_PROPS)


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    message: str
    enforcement: str
    urn: str


class PolicyPackProcess:
    """The real policy pack, started as the engine starts a Python analyzer plugin."""

    def __init__(
        self,
        stack: str,
        *,
        dry_run: bool = True,
        pack_dir: Path = POLICY_PACK,
        script: str = "__main__.py",
        extra_env: Mapping[str, str] | None = None,
    ):
        env = {
            **os.environ,
            **(extra_env or {}),
            "PULUMI_STACK": stack,
            "PULUMI_PROJECT": "im-access",
            "PULUMI_ORGANIZATION": "organization",
            "PULUMI_DRY_RUN": "true" if dry_run else "false",
        }
        self.process = subprocess.Popen(
            [sys.executable, script], cwd=pack_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.isdigit():
            self.process.kill()
            raise RuntimeError(f"policy pack did not print a port: {line!r} {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
        self.channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def info(self) -> Any:
        from google.protobuf import empty_pb2

        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def configure(self, config: Mapping[str, Mapping[str, Any]], enforcement: Mapping[str, str] | None = None) -> None:
        """Send the policy config as the engine does: every policy, with its level and properties."""
        levels = {"advisory": 0, "mandatory": 1, "disabled": 2, "remediate": 3}
        info = self.info()
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for policy in info.policies:
            entry = request.policyConfig[policy.name]
            level = (enforcement or {}).get(policy.name)
            entry.enforcementLevel = levels[level] if level else policy.enforcementLevel
            entry.properties.CopyFrom(_struct(config.get(policy.name, {})))
        self.stub.Configure(request)

    def analyze(self, resource: AnalyzerResource) -> list[Diagnostic]:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            properties=_struct(resource.properties),
            urn=resource.urn,
            name=resource.name,
            options=analyzer_pb2.AnalyzerResourceOptions(parent=resource.parent),
        )
        if resource.provider is not None:
            provider = resource.provider
            request.provider.CopyFrom(
                analyzer_pb2.AnalyzerProviderResource(
                    type=provider.type, properties=_struct(provider.properties), urn=provider.urn, name=provider.name
                )
            )
        return self._diagnostics(self.stub.Analyze(request))

    def analyze_stack(self, resources: Sequence[AnalyzerResource]) -> list[Diagnostic]:
        """The whole stack, with the providers its resources use among its resources, as the engine sends it."""
        listed = {r.urn for r in resources}
        providers = {r.provider.urn: r.provider for r in resources if r.provider is not None}
        resources = [*resources, *(p for urn, p in providers.items() if urn not in listed)]
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    properties=_struct(r.properties),
                    urn=r.urn,
                    name=r.name,
                    parent=r.parent,
                    options=analyzer_pb2.AnalyzerResourceOptions(parent=r.parent),
                    propertyDependencies={
                        key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
                        for key, urns in r.property_dependencies.items()
                    },
                )
                for r in resources
            ]
        )
        return self._diagnostics(self.stub.AnalyzeStack(request))

    def analyze_all(self, resources: Sequence[AnalyzerResource]) -> list[Diagnostic]:
        """What the engine asks during one update: each resource, then the whole stack."""
        found = [d for r in resources for d in self.analyze(r)]
        return found + self.analyze_stack(resources)

    @staticmethod
    def _diagnostics(response: Any) -> list[Diagnostic]:
        names = {value: name for name, value in analyzer_pb2.EnforcementLevel.items()}
        return [
            Diagnostic(d.policyName, d.message, names[d.enforcementLevel].lower(), d.urn) for d in response.diagnostics
        ]

    def close(self) -> None:
        self.channel.close()
        self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> PolicyPackProcess:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def mandatory(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.enforcement == "mandatory"]
