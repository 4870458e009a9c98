"""A `custom` action that matches no name in IM's catalogue of CAM actions: a warning with the closest
names, as the catalogue is partial (im_access/catalogue.py) and a typo must not pass silently."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from im_access.catalogue import unknown_action_warning
from im_access.contract import IM_COMPONENTS, Props
from im_guardrails.resources import component_principal


def _validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in IM_COMPONENTS:
        return
    actions = args.props.get(Props.ACTIONS) or []
    principal = component_principal(args.resource_type, args.props, args.name)
    for action in actions:
        if warning := unknown_action_warning(str(action)):
            report_violation(f"Check the IM action of {principal}: {warning}", None)


custom_actions_in_catalogue = ResourceValidationPolicy(
    name="im-custom-actions-in-catalogue",
    description=(
        "Warns when an action of a 'custom' level matches no name in IM's catalogue of CAM actions "
        "(im_access/data, partial), with up to three closest names."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    validate=_validate,
    config_schema=PolicyConfigSchema(properties={}),
)
