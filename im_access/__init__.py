"""Shared knowledge of im-access: access levels, configuration and credential hand-over.

The Pulumi program, its components and the policy pack all import this package, so they
cannot disagree about what an access level means.
"""
