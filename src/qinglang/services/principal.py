"""Who is calling: the logged-in user as a plain value, and the scope checks every query uses.

Regulators (officer, analyst, leader, admin) act within a jurisdiction (division code; a
province covers its cities) and, for case work, a department. Platform operators belong to an
organisation and see only its subjects, notices and rectifications.
"""

from __future__ import annotations

from dataclasses import dataclass

from qinglang.govern.actors import Actor, Role
from qinglang.govern.identifiers import IdentifierError, division_covers, normalize_division
from qinglang.services.errors import ServiceError

REGULATOR_ROLES = frozenset({Role.admin, Role.officer, Role.analyst, Role.leader})
CASE_ROLES = frozenset({Role.officer, Role.analyst, Role.leader})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    roles: frozenset[Role]
    department: str | None
    jurisdiction: str
    organisation_id: int | None = None

    @property
    def actor_id(self) -> str:
        return f"user:{self.user_id}"

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_operator(self) -> bool:
        return Role.operator in self.roles and not (self.roles & REGULATOR_ROLES)

    @property
    def is_regulator(self) -> bool:
        return bool(self.roles & REGULATOR_ROLES)

    def covers(self, division: str | None) -> bool:
        """True when `division` lies in this principal's jurisdiction (False if malformed)."""
        if division is None:
            return False
        try:
            return division_covers(self.jurisdiction, division)
        except IdentifierError:
            return False

    def actor(self) -> Actor:
        """The core's view of this user, for case work (needs a department)."""
        if self.department is None:
            raise ServiceError(
                "forbidden",
                "no_department",
                "case work needs a department",
                "您的账号未归属任何部门，不能办理案件。",
            )
        return Actor(self.actor_id, self.roles, self.department, self.jurisdiction)

    def require(self, *roles: Role) -> None:
        """403 unless the principal holds one of `roles`."""
        if not self.has(*roles):
            raise ServiceError(
                "forbidden",
                "forbidden_role",
                f"needs one of the roles {', '.join(roles)}",
                "您的角色无权执行此操作。",
            )

    def require_covers(self, division: str | None) -> None:
        """403 outside the jurisdiction; 422 for a code that is no division at all."""
        if division is not None:
            try:
                normalize_division(division)
            except IdentifierError:
                raise ServiceError(
                    "validation-error",
                    "bad_jurisdiction",
                    f"{str(division)[:12]!r} is not a division code",
                    "行政区划代码无效，应为6位数字，如 310000。",
                ) from None
        if not self.covers(division):
            raise ServiceError(
                "forbidden",
                "out_of_jurisdiction",
                f"{division} is outside {self.jurisdiction}",
                "该记录不在您的管辖范围内。",
            )
