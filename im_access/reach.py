"""Who reaches IM full access: one graph of principals, built from a stack or from a live account.

The policy pack translates the stack's resources into a `ReachGraph`, the audit the account CAM
answers with; both ask it the same question. Nodes are principals (`user:<name>`, `group:<id>`,
`role:<name>`, `orgIdentity:<id>`, a member account, a key's holder). Edges:
- hold: a principal holds a policy, judged once into a `Grant`;
- join: a user is a member of a group, and holds what the group holds;
- assume: a principal can become a role, when the role's trust names it, or trusts its account's
  root and the principal is allowed `sts:AssumeRole` on the role (the two hops of CAM).
A principal reaches IM full access when a principal reachable from it holds a grant that is IM
full access, that cannot be identified, or (counted for all but roles, which the trust decides
for) any CAM write, with which it can give itself anything. The answer is a `Path` that names
every hop, so a finding explains itself (after Principal Mapper's graph and its edge checkers).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

from im_access.access import (
    AmbiguousDocumentError,
    allowed_actions,
    inspect_policy_document,
    normalise_policy_name,
    read_policy_document,
)
from im_access.cam_actions import allows_assume_role, cam_write_in

ReachKind = Literal["full", "cam-write", "unidentified", "pending"]

# The presets whose meaning is known, by normalised name: what each gives of IM and of CAM.
# Any other preset attached in a stack cannot be identified; the audit reads only these.
PRESETS: Mapping[str, tuple[bool, bool]] = {
    normalise_policy_name(name): grants
    for name, grants in {
        "QcloudAVCFullAccess": (True, False),
        "AdministratorAccess": (True, True),
        "QCloudResourceFullAccess": (True, False),  # everything but CAM and billing
        "QcloudCamFullAccess": (False, True),
        "QcloudIMReadOnlyAccess": (False, False),
        "ReadOnlyAccess": (False, False),
        "QcloudCamReadOnlyAccess": (False, False),
    }.items()
}


@dataclass(frozen=True)
class Grant:
    """What one policy gives its holder, judged once. `label` names it in a path."""

    label: str
    full_im: str | None = None  # why it is IM full access
    cam_write: str | None = None  # why its holder can give itself anything
    unidentified: str | None = None  # why it cannot be judged; it counts as IM full access
    pending: str | None = None  # what is unknown until `pulumi up`
    assume: tuple[str, ...] = ()  # role ARN patterns it allows sts:AssumeRole on
    preset_full: bool = False  # IM full access by a full-access preset, judged resource by resource too

    def reaches(self, cam_write: bool) -> tuple[ReachKind, str] | None:
        if self.full_im:
            return "full", self.full_im
        if self.unidentified:
            return "unidentified", self.unidentified
        if cam_write and self.cam_write:
            return "cam-write", self.cam_write
        return None


def judge_document(label: str, *documents: Any) -> Grant:
    """A custom policy's grant, from its document (or documents): all of IM, CAM write, the roles it may assume."""
    full: str | None = None
    cam_write: str | None = None
    assume: list[str] = []
    for document in documents:
        verdict = inspect_policy_document(document)
        if full is None and verdict.grants_all_of_im:
            full = f"allows all of IM ({verdict.reason})"
        try:
            statements = read_policy_document(document)
        except (AmbiguousDocumentError, ValueError):
            continue  # judged as full access above: it cannot be shown safe
        for statement in statements:
            for action in allowed_actions(statement):
                if cam_write is None and (write := cam_write_in(action)) is not None:
                    cam_write = f"allows {action.strip()!r}, which covers cam:{write}"
                if allows_assume_role(action):
                    assume += _resources(statement)
    return Grant(label, full_im=full, cam_write=cam_write, assume=tuple(dict.fromkeys(assume)))


def _resources(statement: Mapping[str, Any]) -> list[str]:
    resource = statement.get("resource")
    items = [resource] if isinstance(resource, str) else list(resource or ["*"])
    return [str(item).strip().lower() for item in items]


def judge_preset(name: str | None, policy_id: int | None, known_ids: Mapping[int, str], where: str = "") -> Grant:
    """A preset's grant, by its name or its id (`known_ids`: id to name); an unknown one is unidentified.
    `where` says where it is held, when that is not an attachment (an organization identity's list)."""
    named = name if name is not None else known_ids.get(policy_id) if policy_id is not None else None
    label = where + (f"preset {named}" if named is not None else f"policy id {policy_id}")
    grants = PRESETS.get(normalise_policy_name(named)) if named is not None else None
    if grants is None:
        where = (
            "a preset whose meaning the guardrails do not know (im_access/reach.py PRESETS)"
            if named is not None
            else "neither a policy of the stack nor a preset listed in policy_pack/approvals.yaml presetPolicies"
        )
        return Grant(label, unidentified=f"is {where}, so what it allows cannot be shown")
    full, cam = grants
    return Grant(
        label,
        full_im="includes IM full access" if full else None,
        cam_write="includes CAM write" if cam else None,
        preset_full=full,
    )


@dataclass(frozen=True)
class Admits:
    """Who a role's trust policy lets in: principals by name (`uin:<n>`, `role:<name>`), the accounts whose
    root it trusts (any of their principals allowed sts:AssumeRole), and why someone outside may."""

    principals: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    outside: str | None = None


@dataclass(frozen=True)
class Hop:
    """One step of a path: the principal reached, how, and what made the edge (a resource, for the pack)."""

    principal: str
    how: str = ""
    source: str | None = None


@dataclass(frozen=True)
class Path:
    hops: tuple[Hop, ...]
    grant: Grant
    kind: ReachKind
    reason: str

    @property
    def source(self) -> str | None:
        """What made the first edge: the resource that opened the path."""
        return next((hop.source for hop in self.hops if hop.source is not None), None)

    @property
    def through_role(self) -> bool:
        """Whether the path becomes a role on the way (a role's own grants are not this)."""
        return any(hop.principal.startswith("role:") for hop in self.hops[1:])

    @property
    def direct_preset(self) -> bool:
        """A full-access preset held by the principal itself: judged resource by resource already."""
        return len(self.hops) == 1 and self.grant.preset_full

    def describe(self) -> str:
        steps = [self.hops[0].principal]
        steps += [f"{hop.principal} ({hop.how})" if hop.how else hop.principal for hop in self.hops[1:]]
        return " -> ".join([*steps, f"{self.grant.label} {self.reason}"])


def _key(principal: str) -> str:
    kind, _, name = principal.partition(":")
    if kind in ("uin", "group", "account", "orgidentity") and name.strip().lstrip("+").isdigit():
        name = str(int(name))
    return f"{kind}:{name.strip()}".casefold()


@dataclass
class _Role:
    arns: tuple[str, ...]  # by name, and by id once CAM has given it one
    admits: Admits
    source: str | None
    by_id: str  # what its ARN by id starts with: `qcs::cam::uin/<owner>:role/`

    @property
    def id_known(self) -> bool:
        return len(self.arns) > 1

    def assumable_by(self, pattern: str) -> bool:
        """Whether an sts:AssumeRole resource pattern covers this role (STS takes a role by either ARN)."""
        if any(fnmatchcase(arn, pattern) for arn in self.arns):
            return True
        if self.id_known:
            return False
        # The id is not known (a role this run makes, or one the provider knows by name alone): a pattern
        # covers it when it could match `<owner's role prefix><digits>`. Whatever a pattern matches starts
        # with its text before the first wildcard, so that text decides, to the safe side.
        by_id, literal = self.by_id, re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        if literal == pattern:
            return pattern.startswith(by_id) and pattern[len(by_id) :].isdigit()
        return by_id.startswith(literal) or (literal.startswith(by_id) and literal[len(by_id) :].isdigit())


@dataclass
class ReachGraph:
    """Principals, what they hold, who is in which group and who may become which role."""

    owner_uin: str = ""
    holds: dict[str, list[tuple[Grant, str | None]]] = field(default_factory=dict)
    groups: dict[str, list[tuple[str, str, str | None]]] = field(default_factory=dict)  # member: group, how, source
    roles: dict[str, _Role] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    _aliases_of: dict[str, set[str]] | None = field(default=None, repr=False)

    def node(self, principal: str) -> str:
        key = _key(principal)
        key = self.aliases.get(key, key)
        self.labels.setdefault(key, principal)
        return key

    def alias(self, alias: str, principal: str) -> None:
        """`alias` (a uin, a value known only later) names the same principal as `principal`."""
        if _key(alias) != self.node(principal):
            self.aliases[_key(alias)] = self.node(principal)
            self._aliases_of = None

    def hold(self, principal: str, grant: Grant, source: str | None = None) -> None:
        self.holds.setdefault(self.node(principal), []).append((grant, source))

    def join(self, member: str, group: str, source: str | None = None, how: str = "member") -> None:
        self.groups.setdefault(self.node(member), []).append((self.node(group), how, source))

    def role(self, role: str, name: str, admits: Admits, source: str | None = None, role_id: str | None = None) -> None:
        """A role, by its name and (when known) its id, whose trust admits `admits`."""
        arns = [arn_of_role(self.owner_uin, name)] + ([arn_of_role_id(self.owner_uin, role_id)] if role_id else [])
        by_id = arn_of_role_id(self.owner_uin, "").lower()
        self.roles[self.node(role)] = _Role(tuple(a.strip().lower() for a in arns), admits, source, by_id)

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def is_role(self, key: str) -> bool:
        return key in self.roles or self.label(key).startswith("role:")

    def _effective(self, key: str) -> list[tuple[Grant, str | None]]:
        """What a principal may do itself: its own grants and its groups'."""
        grants = list(self.holds.get(key, ()))
        for group, _, _ in self.groups.get(key, ()):
            grants += self.holds.get(group, ())
        return grants

    def _names(self, key: str) -> set[str]:
        """Every name of a principal: its key and its aliases (indexed once, when the graph is asked)."""
        if self._aliases_of is None:
            self._aliases_of = {}
            for alias, target in self.aliases.items():
                self._aliases_of.setdefault(target, set()).add(alias)
        return {key, *self._aliases_of.get(key, ())}

    def _assumable(self, key: str) -> Iterable[tuple[str, str, str | None]]:
        """The roles `key` may become: (role, how, what made the edge)."""
        if not self.roles:
            return
        principals = self._names(key)
        effective = self._effective(key)
        for role_key, role in self.roles.items():
            if role_key == key:
                continue
            named = principals & {_key(p) for p in role.admits.principals}
            if named:
                yield role_key, f"its trust names {self.label(sorted(named)[0])}", role.source
                continue
            if self.owner_uin.lstrip("0") not in {a.lstrip("0") for a in role.admits.accounts}:
                continue
            for grant, source in effective:
                if any(role.assumable_by(pattern) for pattern in grant.assume):
                    yield role_key, f"trusts the account root; {grant.label} allows sts:AssumeRole", source
                    break

    def reach(self, principal: str, *, cam_write: bool = True, kinds: Collection[str] | None = None) -> Path | None:
        """The shortest path from `principal` to IM full access (CAM write counted when `cam_write`), or
        None; a path whose end is unknown until `pulumi up` is returned only when no other is found.
        With `kinds`, only a path ending in one of them: the search goes on past the others."""
        start = self.node(principal)
        queue: deque[tuple[str, tuple[Hop, ...]]] = deque([(start, (Hop(self.label(start)),))])
        seen = {start}
        pending: Path | None = None
        while queue:
            key, hops = queue.popleft()
            for grant, source in self.holds.get(key, ()):
                path_hops = hops if len(hops) > 1 or source is None else (Hop(hops[0].principal, source=source),)
                found = grant.reaches(cam_write)
                if found is not None and (kinds is None or found[0] in kinds):
                    return Path(path_hops, grant, *found)
                if grant.pending and pending is None:
                    pending = Path(path_hops, grant, "pending", grant.pending)
            steps = [*self.groups.get(key, ()), *self._assumable(key)]
            for target, how, source in steps:
                if target not in seen:
                    seen.add(target)
                    queue.append((target, (*hops, Hop(self.label(target), how, source))))
        return pending

    def principals(self) -> list[str]:
        """Every principal of the graph, by its key."""
        keys = set(self.holds) | set(self.groups) | set(self.roles)
        keys |= {group for memberships in self.groups.values() for group, _, _ in memberships}
        keys |= {self.node(p) for role in self.roles.values() for p in role.admits.principals}  # may hold nothing
        return sorted(keys)


def arn_of_role(owner_uin: str, name: str) -> str:
    return f"qcs::cam::uin/{owner_uin}:roleName/{name}"


def arn_of_role_id(owner_uin: str, role_id: str) -> str:
    """The other ARN STS takes a role by: its id (`qcs::cam::uin/<owner>:role/<roleId>`)."""
    return f"qcs::cam::uin/{owner_uin}:role/{role_id}"
