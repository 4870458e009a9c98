"""A policy pack whose policies accept everything: the baseline the guardrails are measured against."""

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

PolicyPack(
    name="noop",
    policies=[
        ResourceValidationPolicy(
            name="noop-resource",
            description="Checks nothing.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=lambda args, report: None,
        ),
        StackValidationPolicy(
            name="noop-stack",
            description="Checks nothing.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=lambda args, report: None,
        ),
    ],
)
