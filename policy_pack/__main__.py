"""The im-access guardrails policy pack. Constructing a PolicyPack starts its gRPC server."""

from im_guardrails import ALL_POLICIES
from pulumi_policy import PolicyPack

PolicyPack(name="im-access-guardrails", policies=ALL_POLICIES)
