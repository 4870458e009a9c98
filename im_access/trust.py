"""Who a CAM role's trust policy lets assume it, judged strictly.

The reviewed settings (`policy_pack/trust.yaml`, behind the security code owners) name this
repository on GitHub, the audience its OIDC tokens carry and the accounts of the organization.
A trust policy passes only when every subject it lets in is shown to be one of them: a principal
of the organization, a Tencent Cloud service, or an OIDC token of this repository whose subject
and audience are pinned exactly. Anything CAM might read more widely than it looks (another
spelling of an operator or a condition key, a wildcard anywhere in a pinned value, a value that
is not a string) pins nothing, so a document cannot pass by being spelled cleverly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from im_access import safe_yaml
from im_access.access import AmbiguousDocumentError, read_policy_document
from im_access.contract import UIN
from im_access.reach import Admits

TRUST_FILE = "trust.yaml"
KEYS = (
    "repository",
    "organizationUins",
    "audiences",
    "pullRequestEnvironments",
    "pullRequestRoles",
    "protectedBranches",
    "issuer",
    "issuerKeys",
)
MAX_BYTES = 64 * 1024
REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
AUDIENCE = re.compile(r"^[A-Za-z0-9._:/-]{1,200}$")
ENVIRONMENT = re.compile(r"^[A-Za-z0-9._ -]{1,255}$")
ISSUER = re.compile(r"^https://[A-Za-z0-9.-]{1,253}(/[A-Za-z0-9._~/-]{0,200})?$")
ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,128}$")
BRANCH = re.compile(r"^[A-Za-z0-9._/-]{1,255}$")
PUSHED_REF = re.compile(r"(?:^|:|@)(?i:(?:ref:)?refs/(heads|tags))/([^:@]*)")
THUMBPRINT = re.compile(r"^[A-Za-z0-9_-]{43}$")  # RFC 7638 SHA-256 JWK thumbprint, base64url

# The only spellings that pin a value. CAM's operators and keys are lower case; whether it reads
# another spelling the same way, or ignores it, cannot be shown, so another spelling pins nothing.
EXACT = "string_equal"
LIKE = "string_like"  # pins only when its values hold no wildcard, then it is an exact match
SUB, AUD = "oidc:sub", "oidc:aud"
WILDCARD = re.compile(r"[*?$\[\]]")  # globs, and policy variables (${...}) whose value is not ours
PRINCIPAL_KEYS = frozenset({"qcs", "federated", "service"})
ACCOUNT_PRINCIPAL = re.compile(
    r"^qcs::cam::uin/([0-9]{1,20}):(root|uin/[0-9]{1,20}|roleName/[A-Za-z0-9+=,.@_-]{1,128})$"
)
FEDERATED = re.compile(r"^qcs::cam::uin/([0-9]{1,20}):(oidc-provider|saml-provider)/([A-Za-z0-9+=,.@_-]{1,128})$")
SERVICE = re.compile(r"^[a-z0-9-]{1,64}(\.[a-z0-9-]{1,64}){1,4}$")
SUBJECT = re.compile(r"^repo:([^:]+):(.+)$")


@dataclass(frozen=True)
class TrustSettings:
    """What a role may trust: this repository's tokens, for these audiences, and these accounts."""

    repository: str = ""
    organization_uins: frozenset[str] = frozenset()
    audiences: frozenset[str] = frozenset()
    pull_request_environments: frozenset[str] = frozenset()  # environments pull requests' jobs run in
    issuer: str = ""  # the OIDC issuer a role OIDC provider may name
    issuer_keys: frozenset[str] = frozenset()  # thumbprints of the issuer's signing keys, reviewed
    pull_request_roles: frozenset[str] = frozenset()  # roles pull requests' jobs assume, wherever they are made
    problems: tuple[str, ...] = ()
    protected_branches: frozenset[str] = frozenset()  # branches only reviewed changes reach


@dataclass
class TrustVerdict:
    """What is wrong with a trust policy, and whether a pull request's workflow can assume the role."""

    problems: list[str] = field(default_factory=list)
    pull_request: str | None = None  # why a pull-request subject satisfies it, or None


def _strings(path: str, value: Any, pattern: re.Pattern[str], what: str, problems: list[str]) -> frozenset[str]:
    items = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value or []]
    if not isinstance(value, list) or not items or not all(isinstance(v, str) and pattern.match(v) for v in items):
        problems.append(f"{path}: a non-empty list of {what}")
        return frozenset()
    return frozenset(items)


def parse_trust_settings(document: Any) -> TrustSettings:
    """The settings in a parsed trust.yaml, every problem listed."""
    if not isinstance(document, Mapping):
        return TrustSettings(problems=(f"the file must be a mapping of {', '.join(KEYS)}",))
    problems = [f"{key}: unknown key; allowed: {', '.join(KEYS)}" for key in document if key not in KEYS]
    repository = document.get("repository")
    if not isinstance(repository, str) or not REPOSITORY.match(repository):
        problems.append(f"repository: required, this repository on GitHub as owner/name (got {str(repository)[:60]!r})")
        repository = ""
    uins = _strings("organizationUins", document.get("organizationUins"), UIN, "account uins (digits)", problems)
    audiences = _strings("audiences", document.get("audiences"), AUDIENCE, "audiences without wildcards", problems)
    environments = document.get("pullRequestEnvironments", [])
    if not isinstance(environments, list) or not all(isinstance(e, str) and ENVIRONMENT.match(e) for e in environments):
        problems.append("pullRequestEnvironments: a list of GitHub environment names")
        environments = []
    issuer = document.get("issuer")
    if not isinstance(issuer, str) or not ISSUER.match(issuer):
        problems.append(f"issuer: required, the OIDC issuer as an https URL (got {str(issuer)[:60]!r})")
        issuer = ""
    roles = document.get("pullRequestRoles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) and ROLE_NAME.match(r) for r in roles):
        problems.append("pullRequestRoles: a list of CAM role names (letters, digits and +=,.@_-)")
        roles = []
    branches = document.get("protectedBranches", [])
    if not isinstance(branches, list) or not all(isinstance(b, str) and BRANCH.match(b) for b in branches):
        problems.append("protectedBranches: a list of branch names (letters, digits and ._/-)")
        branches = []
    keys = document.get("issuerKeys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) and THUMBPRINT.match(k) for k in keys):
        problems.append("issuerKeys: a list of the issuer's key thumbprints (RFC 7638, SHA-256, base64url)")
        keys = []
    return TrustSettings(
        repository,
        uins,
        audiences,
        frozenset(environments),
        issuer,
        frozenset(keys),
        frozenset(roles),
        tuple(problems),
        frozenset(branches),
    )


def load_trust_settings(guardrails: Path) -> TrustSettings:
    """The settings of `<guardrails>/trust.yaml` (the policy pack's folder); with problems if unreadable."""
    path = guardrails / TRUST_FILE
    try:
        text = path.read_bytes()
        if len(text) > MAX_BYTES:
            return TrustSettings(problems=(f"{path.name} is larger than {MAX_BYTES} bytes",))
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
            return TrustSettings(problems=(f"{path.name} uses a YAML alias (*name); write every value out",))
        document = safe_yaml.load(text.decode("utf-8", "replace"), path.name)
    except (OSError, yaml.YAMLError, safe_yaml.UnsafeYamlError) as error:
        return TrustSettings(problems=(f"{path.name} cannot be read: {str(error)[:200]}",))
    return parse_trust_settings(document)


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]


def _show(value: Any) -> str:
    return repr(str(value)[:80])


def _pinned(condition: Any, key: str) -> tuple[list[str], list[str]]:
    """The values a statement's condition pins `key` to, and why it pins it less than it seems."""
    if condition is None:
        return [], []
    if not isinstance(condition, Mapping):
        return [], ["its condition is not an object"]
    values: list[str] = []
    loose: list[str] = []
    for operator, clauses in condition.items():
        if not isinstance(clauses, Mapping):
            loose.append(f"condition {_show(operator)} is not an object")
            continue
        for name, value in clauses.items():
            spelled = unicodedata.normalize("NFKC", str(name)).strip().casefold()
            if spelled != key:
                continue
            if operator not in (EXACT, LIKE) or name != key:
                loose.append(f"{_show(operator)}: {_show(name)} is not {EXACT!r} on {key!r}, so it pins nothing")
                continue
            items = _values(value)
            if not items or not all(isinstance(item, str) for item in items):
                loose.append(f"{key} under {operator!r} is not a string or a list of strings")
                continue
            wild = [item for item in items if WILDCARD.search(item)]
            if wild:
                loose.append(f"{key} under {operator!r} holds {_show(wild[0])}, a wildcard or variable")
                continue
            values += items
    return values, loose


def _subject_problem(subject: str, repository: str) -> str | None:
    match = SUBJECT.match(subject)
    if match is None:
        return f"oidc:sub {_show(subject)} is not a subject of this repository (repo:{repository}:<context>)"
    if match.group(1).casefold() != repository.casefold():
        return f"oidc:sub {_show(subject)} is another repository than {repository!r}"
    return None


def _is_pull_request(subject: str, settings: TrustSettings) -> bool:
    """Whether a pull request's job, or anyone who may push a branch or a tag, gets this subject:
    `pull_request`, an environment pull requests' jobs run in, or a branch or tag other than the
    protected branches (a job running on a pushed branch runs that branch's own workflow)."""
    match = SUBJECT.match(subject)
    if match is None:
        return False
    context = match.group(2).strip().casefold()
    environments = {f"environment:{name}".casefold() for name in settings.pull_request_environments}
    # Customised subject templates may carry the event or a ref anywhere (`ref:...`, a workflow's `@...`).
    # Branch names are case-sensitive (`MAIN` is another branch than `main`), environment names are not.
    refs = PUSHED_REF.findall(match.group(2))
    pushed = any(kind.casefold() == "tags" or name not in settings.protected_branches for kind, name in refs)
    return context in environments or pushed or "pull_request" in context or "refs/pull/" in context


def _judge_oidc(where: str, statement: Mapping[str, Any], settings: TrustSettings, verdict: TrustVerdict) -> None:
    condition = statement.get("condition")
    subjects, loose_sub = _pinned(condition, SUB)
    audiences, loose_aud = _pinned(condition, AUD)
    problems = [f"{where}: {reason}" for reason in loose_sub + loose_aud]
    if not subjects:
        problems.append(f"{where}: no exact oidc:sub, so any subject of the identity provider satisfies it")
        verdict.pull_request = verdict.pull_request or f"{where} pins no oidc:sub"
    for subject in subjects:
        if (problem := _subject_problem(subject, settings.repository)) is not None:
            problems.append(f"{where}: {problem}")
        if _is_pull_request(subject, settings):
            verdict.pull_request = verdict.pull_request or f"{where} trusts {_show(subject)}"
    if not audiences:
        problems.append(f"{where}: no exact oidc:aud, so a token minted for any audience satisfies it")
    problems += [
        f"{where}: oidc:aud {_show(audience)} is not an audience of this repository's tokens "
        f"({', '.join(sorted(settings.audiences))})"
        for audience in audiences
        if audience not in settings.audiences
    ]
    verdict.problems += problems


def _account(where: str, uin: str, settings: TrustSettings) -> str | None:
    if uin.lstrip("0") not in {u.lstrip("0") for u in settings.organization_uins}:
        return f"{where}: uin {uin} is outside the organization ({', '.join(sorted(settings.organization_uins))})"
    return None


def _judge_statement(index: int, statement: Mapping[str, Any], settings: TrustSettings, verdict: TrustVerdict) -> None:
    where = f"statement[{index}]"
    principal = statement.get("principal")
    if isinstance(principal, str) and principal.strip() == "*":
        verdict.problems.append(f"{where}: principal '*' lets anyone assume the role")
        verdict.pull_request = verdict.pull_request or f"{where} trusts principal '*'"
        return
    if not isinstance(principal, Mapping) or not principal:
        verdict.problems.append(f"{where}: principal {_show(principal)} names no principal CAM reads one way only")
        verdict.pull_request = verdict.pull_request or f"{where} has no readable principal"
        return
    for kind, value in principal.items():
        if kind not in PRINCIPAL_KEYS:
            verdict.problems.append(
                f"{where}: principal element {_show(kind)} is not one CAM reads ({', '.join(sorted(PRINCIPAL_KEYS))})"
            )
            verdict.pull_request = verdict.pull_request or f"{where} has an unreadable principal"
            continue
        for item in _values(value):
            _judge_principal(where, kind, item, statement, settings, verdict)


def _judge_principal(
    where: str, kind: str, item: Any, statement: Mapping[str, Any], settings: TrustSettings, verdict: TrustVerdict
) -> None:
    text = item if isinstance(item, str) else ""
    if text.strip() == "*" or "anyone" in text.casefold() or WILDCARD.search(text):
        verdict.problems.append(f"{where}: principal {_show(item)} lets anyone assume the role")
        verdict.pull_request = verdict.pull_request or f"{where} trusts {_show(item)}"
        return
    if kind == "service":
        if not SERVICE.match(text):
            verdict.problems.append(f"{where}: service principal {_show(item)} is not a service name")
        return
    # An identity provider is named under `qcs` too (the provider's own SAML example does so).
    match = (ACCOUNT_PRINCIPAL.match(text) if kind == "qcs" else None) or FEDERATED.match(text)
    if match is None:
        verdict.problems.append(f"{where}: {kind} principal {_show(item)} cannot be shown to be of the organization")
        verdict.pull_request = verdict.pull_request or f"{where} trusts {_show(item)}"
        return
    if (problem := _account(where, match.group(1), settings)) is not None:
        verdict.problems.append(problem)
    if match.re is FEDERATED and match.group(2) == "oidc-provider":
        _judge_oidc(where, statement, settings, verdict)


def judge_trust_document(document: Any, settings: TrustSettings) -> TrustVerdict:
    """Every way a role's trust policy lets in a subject outside the settings, and whether a pull
    request's workflow can assume it. A document that cannot be read one way only fails whole."""
    verdict = TrustVerdict()
    if settings.problems:
        verdict.problems.append(f"policy_pack/{TRUST_FILE} has a problem, so no trust policy can be shown safe")
        verdict.pull_request = "the trust settings cannot be read"
        return verdict
    if not isinstance(document, str | Mapping):
        verdict.problems.append("the trust policy is not a JSON document")
        verdict.pull_request = "the trust policy cannot be read"
        return verdict
    try:
        statements = read_policy_document(document)
    except (AmbiguousDocumentError, ValueError) as error:
        reason = str(error) if isinstance(error, AmbiguousDocumentError) else "it is not valid JSON"
        verdict.problems.append(f"the trust policy cannot be read one way only: {reason}")
        verdict.pull_request = "the trust policy cannot be read"
        return verdict
    allowing = [
        (index, statement)
        for index, statement in enumerate(statements)
        if str(statement.get("effect", "")).strip().lower() == "allow"
    ]
    for index, statement in allowing:
        _judge_statement(index, statement, settings, verdict)
    verdict.problems = list(dict.fromkeys(verdict.problems))  # one principal per line of a list, said once
    return verdict


def jwk_thumbprint(key: Any) -> str | None:
    """The RFC 7638 SHA-256 thumbprint of an RSA or EC public JWK; None for anything else."""
    if not isinstance(key, Mapping):
        return None
    members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}.get(str(key.get("kty")))
    if members is None or not all(isinstance(key.get(name), str) for name in members):
        return None
    canonical = json.dumps({name: key[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def judge_oidc_provider(identity_url: Any, client_ids: Any, identity_key: Any, settings: TrustSettings) -> list[str]:
    """Why a role OIDC provider could vouch for subjects the settings do not: another issuer, another
    audience, or signing keys nobody reviewed (CAM checks tokens against exactly these keys)."""
    if settings.problems:
        return [f"policy_pack/{TRUST_FILE} has a problem, so no identity provider can be shown safe"]
    problems = []
    if identity_url != settings.issuer:
        problems.append(f"its issuer {_show(identity_url)} is not {settings.issuer!r}")
    ids = list(client_ids) if isinstance(client_ids, Sequence) and not isinstance(client_ids, str) else [client_ids]
    problems += [f"its client id {_show(i)} is not an audience of ours" for i in ids if i not in settings.audiences]
    try:
        jwks = json.loads(base64.b64decode(str(identity_key), validate=True))
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
    except (binascii.Error, ValueError):
        keys = None
    if not isinstance(keys, list) or not keys:
        return [*problems, "its identity key is not the base64 of a JWKS, so its signing keys cannot be shown"]
    for index, key in enumerate(keys):
        thumbprint = jwk_thumbprint(key)
        if thumbprint not in settings.issuer_keys:
            problems.append(
                f"its key [{index}] (thumbprint {thumbprint or 'unreadable'}) is not listed in issuerKeys, so tokens "
                "signed by whoever holds it would pass"
            )
    return problems


def trust_admits(document: Any, settings: TrustSettings, owner_uin: str) -> Admits:
    """Who a role's trust policy lets in, for the reach graph: principals of `owner_uin` it names
    (`uin:<n>`, `role:<name>`), the accounts whose root it trusts, and why a pull request's workflow
    (or anyone outside) can assume it, as judge_trust_document says."""
    outside = judge_trust_document(document, settings).pull_request
    try:
        statements = read_policy_document(document) if isinstance(document, str | Mapping) else []
    except (AmbiguousDocumentError, ValueError):
        return Admits(outside=outside)
    principals: set[str] = set()
    accounts: set[str] = set()
    for statement in statements:
        principal = statement.get("principal")
        if str(statement.get("effect", "")).strip().lower() != "allow" or not isinstance(principal, Mapping):
            continue
        for item in _values(principal.get("qcs")):
            match = ACCOUNT_PRINCIPAL.match(item) if isinstance(item, str) else None
            if match is None:
                continue
            account, who = match.group(1), match.group(2)
            if who == "root":
                accounts.add(account)
            elif account.lstrip("0") == owner_uin.lstrip("0"):
                kind, _, name = who.partition("/")
                principals.add(f"{'uin' if kind == 'uin' else 'role'}:{name}")
    return Admits(frozenset(principals), frozenset(accounts), outside)
