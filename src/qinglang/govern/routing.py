"""Which department leads a case and which cooperate, from the case's grounds.

Grounds are harm-category codes (`detect`) or compliance-violation codes; their rows in the
taxonomy name a lead and cooperating departments (the task matrix of 教基〔2020〕6号). The
first ground is the primary one and decides the lead; every other department named by any
ground cooperates, so nobody who should see the case is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qinglang.taxonomy import get_taxonomy


class RoutingError(ValueError):
    """Unknown ground or department; `message_zh` is for the end user."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


@dataclass(frozen=True, slots=True)
class Routing:
    lead: str
    co: tuple[str, ...]


def ground_departments(code: str) -> tuple[str, tuple[str, ...]]:
    """(lead, cooperating) of one category or violation code."""
    row = get_taxonomy().ground(code)
    if row is None:
        raise RoutingError(f"unknown case ground {code!r}", f"未知的案件类别：{code}")
    return row.lead, row.co


def route(grounds: Iterable[str], lead: str | None = None) -> Routing:
    """Lead and cooperating departments for `grounds` (primary ground first).

    `lead` overrides the matrix where a local plan differs (Shanghai gives game ads to market
    regulation and domains / ICP to telecom); the matrix lead then cooperates.
    """
    codes = list(dict.fromkeys(grounds))
    if not codes:
        raise RoutingError("a case needs at least one ground", "请至少选择一个案件类别。")
    named: list[str] = []
    for code in codes:
        row_lead, row_co = ground_departments(code)
        named.extend((row_lead, *row_co))
    if lead is None:
        lead = named[0]
    elif lead not in get_taxonomy().departments:
        raise RoutingError(f"unknown department {lead!r}", f"未知的部门：{lead}")
    co = tuple(dep for dep in dict.fromkeys(named) if dep != lead)
    return Routing(lead=lead, co=co)
