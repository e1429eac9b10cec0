"""Who acts on a case: the roles of DESIGN.md / issue 4 and the acting user as a plain value.

The storage layer builds an `Actor` from the logged-in user; the core decides with it whether
an action is allowed (role, department, jurisdiction) without asking a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from qinglang.govern.identifiers import division_covers, normalize_division


class Role(StrEnum):
    admin = "admin"  # manages users and organisations; deliberately handles no cases
    officer = "officer"  # 办案人员: opens, routes and follows cases
    analyst = "analyst"  # 研判人员: assesses cases and proposes dispositions
    leader = "leader"  # 审批领导: approves dispositions, dismisses and transfers
    operator = "operator"  # platform operator: sees its own subjects and notices only


ROLE_NAMES_ZH: dict[Role, str] = {
    Role.admin: "系统管理员",
    Role.officer: "办案人员",
    Role.analyst: "研判人员",
    Role.leader: "审批领导",
    Role.operator: "平台运营者",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """A user acting in one department of one jurisdiction (division code, e.g. "310000")."""

    id: str
    roles: frozenset[Role]
    department: str
    jurisdiction: str

    def __post_init__(self) -> None:
        if not self.id or not self.id.strip():
            raise ValueError("actor id must not be empty")
        object.__setattr__(self, "roles", frozenset(Role(r) for r in self.roles))
        object.__setattr__(self, "jurisdiction", normalize_division(self.jurisdiction))

    def has(self, role: Role) -> bool:
        return role in self.roles

    def covers(self, jurisdiction: str) -> bool:
        """True when a case in `jurisdiction` lies inside this actor's jurisdiction."""
        return division_covers(self.jurisdiction, jurisdiction)
