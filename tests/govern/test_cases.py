"""The case state machine: routing, the transition table, every refusal, and a stateful
property test that drives random actions by random actors through it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from qinglang.govern.actors import Actor, Role
from qinglang.govern.case_dispositions import (
    DISPOSITION_OPS,
    approve_disposition,
    is_overdue,
    propose_disposition,
    rectification_deadline,
    reject_disposition,
    withdraw_disposition,
)
from qinglang.govern.cases import (
    ACTIONS,
    MAX_REASON,
    STATE_NAMES_ZH,
    TABLE,
    TERMINAL,
    TRANSITIONS,
    CaseState,
    DispositionStatus,
    Event,
    State,
    TransitionError,
    allowed_actions,
    new_case,
    transition,
)
from qinglang.govern.clock import SHANGHAI
from qinglang.govern.dispositions import registered
from qinglang.govern.routing import RoutingError, route
from qinglang.store.audit_chain import AuditRecord, append, event_kind, verify
from qinglang.taxonomy import get_taxonomy

_CJK = re.compile(r"[\u4e00-\u9fff]")
T0 = datetime(2020, 10, 9, 9, 0, tzinfo=SHANGHAI)


def _actor(id_: str, *roles: Role, dep: str = "cyberspace", where: str = "310000") -> Actor:
    return Actor(id=id_, roles=frozenset(roles), department=dep, jurisdiction=where)


OFFICER = _actor("u:officer", Role.officer)
ANALYST = _actor("u:analyst", Role.analyst)
LEADER = _actor("u:leader", Role.leader)
LEADER2 = _actor("u:leader2", Role.leader)
NATIONAL_LEADER = _actor("u:national", Role.leader, where="100000")
CITY_OFFICER = _actor("u:city", Role.officer, where="310100")
OTHER_PROVINCE = _actor("u:jiangsu", Role.officer, where="320000")
POLICE_OFFICER = _actor("u:police", Role.officer, dep="police")
ADMIN = _actor("u:admin", Role.admin)
OPERATOR = _actor("u:platform", Role.operator)


def _case(grounds=("porn_vulgar",), where: str = "310000") -> CaseState:
    case, _ = new_case("SH-2020-0001", grounds, where, T0, created_by="public:R-1")
    return case


def _raises(code: str, func, *args, **kwargs) -> TransitionError:
    with pytest.raises(TransitionError) as info:
        func(*args, **kwargs)
    exc = info.value
    assert exc.code == code, (exc.code, exc.args)
    assert exc.args[0] and _CJK.search(exc.message_zh)
    assert exc.http_status in (403, 404, 409, 422)
    return exc


class Flow:
    """Drives one case through the machine, keeping the clock and the audit chain."""

    def __init__(self, case: CaseState, first: Event) -> None:
        self.case = case
        self.at = case.updated_at
        self.log: list[AuditRecord] = [append(None, **first.audit_fields())]

    def _tick(self) -> datetime:
        self.at += timedelta(hours=1)
        return self.at

    def _record(self, result: tuple[CaseState, Event]) -> Event:
        self.case, event = result
        self.log.append(append(self.log[-1], **event.audit_fields()))
        return event

    def do(self, action: str, actor: Actor, reason: str | None = None, **kw) -> Event:
        return self._record(transition(self.case, action, actor, self._tick(), reason, **kw))

    def propose(self, code: str, params=None, actor: Actor = ANALYST) -> str:
        self._record(propose_disposition(self.case, code, params, actor, self._tick()))
        return self.case.dispositions[-1].id

    def approve(self, did: str, actor: Actor = LEADER) -> Event:
        return self._record(approve_disposition(self.case, did, actor, self._tick()))


def _flow(grounds=("porn_vulgar",)) -> Flow:
    return Flow(*new_case("SH-2020-0001", grounds, "310000", T0, created_by="public:R-1"))


# ---------------------------------------------------------------- routing


def test_lead_and_co_departments_come_from_the_category_row() -> None:
    tax = get_taxonomy()
    for code, cat in tax.categories.items():
        assert route([code]) == route([code], None)
        assert route([code]).lead == cat.lead and route([code]).co == cat.co
    for code, vio in tax.violations.items():
        assert route([code]).lead == vio.lead and route([code]).co == vio.co


def test_routing_several_grounds() -> None:
    # The primary ground leads; every department any ground names cooperates, once.
    routing = route(["gambling", "porn_vulgar", "gambling"])
    assert routing.lead == "police"
    assert routing.co == ("cyberspace", "telecom", "market")
    assert route(["no_real_name", "no_youth_mode"]).co == ("cyberspace",)
    # A local plan may give the lead elsewhere (Shanghai: game ads to market regulation).
    assert route(["game_ad"], lead="market").co == ("cyberspace",)
    assert route(["game_ad"], lead="telecom").co == ("market", "cyberspace")


@pytest.mark.parametrize(("grounds", "lead"), [([], None), (["nope"], None), (["fraud"], "army")])
def test_routing_refuses(grounds: list[str], lead: str | None) -> None:
    with pytest.raises(RoutingError) as info:
        route(grounds, lead)
    assert _CJK.search(info.value.message_zh)


def test_new_case() -> None:
    case, event = new_case(
        "C-1", iter(["gambling", "fraud"]), "３１０１０４", T0, created_by="system", reason=" 巡查 "
    )
    assert case.state is State.lead and case.version == 0 and case.dispositions == ()
    assert (case.lead_department, case.co_departments) == ("police", ("cyberspace",))
    assert case.grounds == ("gambling", "fraud") and case.jurisdiction == "310104"
    assert event.kind == "case.created" and event.actor == "system" and event.reason == "巡查"
    assert event.subject == "case:C-1"
    event_kind(event.kind).check(event.payload)


@pytest.mark.parametrize(
    ("args", "kwargs", "code"),
    [
        (("", ["fraud"], "310000", T0), {"created_by": "x"}, "bad_case_id"),
        (("C", ["fraud"], "310000", T0), {"created_by": " "}, "bad_actor"),
        (("C", [], "310000", T0), {"created_by": "x"}, "bad_case"),
        (("C", ["fraud"], "999999", T0), {"created_by": "x"}, "bad_case"),
        (("C", ["fraud"], "310000", T0.replace(tzinfo=None)), {"created_by": "x"}, "bad_time"),
    ],
)
def test_new_case_refuses(args, kwargs, code: str) -> None:
    _raises(code, new_case, *args, **kwargs)


# ---------------------------------------------------------------- the table


def test_table_shape() -> None:
    assert len(TABLE) == len(TRANSITIONS)
    assert {t.source for t in TRANSITIONS} == set(State) - TERMINAL
    for t in TRANSITIONS:
        assert t.source not in TERMINAL and t.roles and Role.admin not in t.roles
        assert _CJK.search(t.name_zh)
        assert t.needs_target == (t.action == "transfer")
        if t.action in ("dismiss", "transfer", "fail_recheck", "dispose"):
            assert t.needs_reason
    assert set(STATE_NAMES_ZH) == set(State)
    # The main line of DESIGN.md, in order.
    main = ["open", "assess", "dispose", "notify", "recheck", "close"]
    state = State.lead
    for action in main:
        state = TABLE[(state, action)].target
    assert state is State.closed
    assert TABLE[(State.rechecking, "fail_recheck")].target is State.rectifying


def test_every_state_is_reachable_from_lead() -> None:
    seen, frontier = {State.lead}, [State.lead]
    while frontier:
        node = frontier.pop()
        for t in TRANSITIONS:
            if t.source is node and t.target not in seen:
                seen.add(t.target)
                frontier.append(t.target)
    assert seen == set(State)


# ---------------------------------------------------------------- the main line


def test_full_case_with_failed_recheck() -> None:
    flow = _flow()
    flow.do("open", OFFICER)
    flow.do("assess", ANALYST)
    d1 = flow.propose("rectify", {"deadline": "2020-10-20"})
    d2 = flow.propose("remove_content", {"count": "120"})
    flow.do("dispose", ANALYST, "经研判，存在低俗内容")
    assert flow.case.state is State.disposing
    _raises("dispositions_pending", transition, flow.case, "notify", OFFICER, flow.at)
    flow.approve(d1)
    _raises("dispositions_pending", transition, flow.case, "notify", OFFICER, flow.at)
    flow.approve(d2, LEADER2)
    event = flow.do("notify", OFFICER)
    assert flow.case.state is State.rectifying
    assert event.payload == {
        "action": "notify",
        "from": "disposing",
        "to": "rectifying",
        "role": "officer",
        "department": "cyberspace",
        "reason": None,
        "target": None,
    }
    assert rectification_deadline(flow.case) == date(2020, 10, 20)
    assert not is_overdue(flow.case, datetime(2020, 10, 20, 23, 59, tzinfo=SHANGHAI))
    # 2020-10-20 16:30 UTC is already the 21st in China.
    assert is_overdue(flow.case, datetime(2020, 10, 20, 16, 30, tzinfo=UTC))

    flow.do("recheck", OFFICER)
    _raises("reason_required", transition, flow.case, "fail_recheck", ANALYST, flow.at, "  ")
    flow.do("fail_recheck", ANALYST, "仍可访问违规内容")
    assert flow.case.state is State.rectifying
    # A new deadline after the failed re-check supersedes the first one.
    d3 = flow.propose("rectify", {"deadline": "2020-12-15"}, actor=OFFICER)
    _raises("dispositions_pending", transition, flow.case, "recheck", OFFICER, flow.at)
    flow.approve(d3)
    assert rectification_deadline(flow.case) == date(2020, 12, 15)
    flow.do("recheck", OFFICER)
    flow.do("close", LEADER, "复查合格")
    assert flow.case.state is State.closed and flow.case.terminal
    assert flow.case.version == len(flow.log) - 1
    assert not is_overdue(flow.case, datetime(2021, 1, 1, tzinfo=SHANGHAI))
    assert verify(flow.log).ok
    assert [r.kind for r in flow.log].count("disposition.approved") == 3
    _raises("terminal", transition, flow.case, "transfer", LEADER, flow.at, "x", target="公安")


def test_events_are_in_shanghai_time_and_carry_actor_and_reason() -> None:
    case = _case()
    utc_time = datetime(2020, 10, 9, 2, 0, tzinfo=UTC)
    new, event = transition(case, "dismiss", OFFICER, utc_time, "重复举报")
    assert event.at == utc_time and event.at.utcoffset() == timedelta(hours=8)
    assert new.updated_at == event.at and new.state is State.dismissed
    assert (event.actor, event.reason, event.kind) == ("u:officer", "重复举报", "case.transition")
    assert event.audit_fields()["subject"] == "case:SH-2020-0001"


@pytest.mark.parametrize("source", sorted(set(State) - TERMINAL - {State.lead}))
def test_transfer_needs_a_leader_reason_and_target_later_on(source: State) -> None:
    case = _case()
    case = replace(case, state=source)
    at = T0 + timedelta(minutes=1)
    if TABLE[(source, "transfer")].roles == (Role.leader,):
        _raises("forbidden_role", transition, case, "transfer", OFFICER, at, "x", target="公安")
    _raises("reason_required", transition, case, "transfer", LEADER, at, None, target="公安")
    _raises("target_required", transition, case, "transfer", LEADER, at, "涉嫌犯罪", target=" ")
    new, event = transition(case, "transfer", LEADER, at, "涉嫌犯罪", target="某市公安局")
    assert new.state is State.transferred and event.payload["target"] == "某市公安局"


def test_target_is_ignored_outside_transfers() -> None:
    _, event = transition(_case(), "open", OFFICER, T0, target="某处")
    assert event.payload["target"] is None


# ---------------------------------------------------------------- refusals


def test_unknown_action_and_wrong_state() -> None:
    case = _case()
    _raises("unknown_action", transition, case, "escalate", OFFICER, T0)
    exc = _raises("invalid_from_state", transition, case, "close", OFFICER, T0)
    assert exc.http_status == 409 and "线索" in exc.message_zh


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        (ADMIN, "forbidden_role"),  # admins manage users, not cases
        (OPERATOR, "forbidden_role"),
        (ANALYST, "forbidden_role"),
        (POLICE_OFFICER, "wrong_department"),  # a cooperating department sees, does not drive
        (CITY_OFFICER, "out_of_jurisdiction"),  # a city cannot act on a provincial case
        (OTHER_PROVINCE, "out_of_jurisdiction"),
    ],
)
def test_who_may_open(actor: Actor, code: str) -> None:
    exc = _raises(code, transition, _case(), "open", actor, T0)
    assert exc.http_status == 403


def test_superior_jurisdiction_may_act() -> None:
    new, event = transition(_case(where="310104"), "open", NATIONAL_LEADER, T0)
    assert new.state is State.opened and event.payload["role"] == "leader"
    new, _ = transition(_case(where="310104"), "open", CITY_OFFICER, T0)
    assert new.state is State.opened


def test_dismissing_an_opened_case_is_for_leaders() -> None:
    case, _ = transition(_case(), "open", OFFICER, T0)
    _raises("forbidden_role", transition, case, "dismiss", OFFICER, T0, "不构成违规")
    new, _ = transition(case, "dismiss", LEADER, T0, "不构成违规")
    assert new.state is State.dismissed


def test_reason_rules() -> None:
    case = _case()
    _raises("reason_required", transition, case, "dismiss", OFFICER, T0, None)
    _raises("reason_required", transition, case, "dismiss", OFFICER, T0, " \n ")
    _raises("reason_too_long", transition, case, "dismiss", OFFICER, T0, "长" * (MAX_REASON + 1))
    _, event = transition(case, "dismiss", OFFICER, T0, "长" * MAX_REASON)
    assert len(event.reason) == MAX_REASON
    _, event = transition(case, "open", OFFICER, T0, "  ")  # optional reason: blank is None
    assert event.reason is None and event.payload["reason"] is None


def test_time_rules() -> None:
    case = _case()
    _raises("bad_time", transition, case, "open", OFFICER, datetime(2020, 10, 9, 10))
    _raises("time_order", transition, case, "open", OFFICER, T0 - timedelta(seconds=1))
    new, _ = transition(case, "open", OFFICER, T0)  # the same instant is fine
    assert new.state is State.opened


def test_notify_needs_dispositions() -> None:
    flow = _flow()
    flow.do("open", OFFICER)
    flow.do("assess", ANALYST)
    flow.do("dispose", ANALYST, "研判意见")
    _raises("no_dispositions", transition, flow.case, "notify", OFFICER, flow.at)
    did = flow.propose("warning")
    flow._record(reject_disposition(flow.case, did, LEADER, flow._tick(), "措施过轻"))
    _raises("no_dispositions", transition, flow.case, "notify", OFFICER, flow.at)
    did = flow.propose("penalty", {"amount": "50000"})
    flow.approve(did)
    flow.do("notify", LEADER)
    assert flow.case.state is State.rectifying
    assert [d.status for d in flow.case.dispositions] == [
        DispositionStatus.rejected,
        DispositionStatus.approved,
    ]


# ---------------------------------------------------------------- dispositions on a case


def _disposing_flow() -> Flow:
    flow = _flow()
    flow.do("open", OFFICER)
    flow.do("assess", ANALYST)
    flow.do("dispose", ANALYST, "研判意见")
    return flow


def test_disposition_ops_table() -> None:
    assert DISPOSITION_OPS["approve"].roles == (Role.leader,)
    assert DISPOSITION_OPS["reject"].needs_reason
    for op in DISPOSITION_OPS.values():
        assert not op.states & TERMINAL and State.lead not in op.states


def test_proposal_rules() -> None:
    flow = _flow()
    _raises("invalid_from_state", propose_disposition, flow.case, "warning", {}, ANALYST, T0)
    flow = _disposing_flow()
    at = flow.at
    _raises("forbidden_role", propose_disposition, flow.case, "warning", {}, ADMIN, at)
    _raises("wrong_department", propose_disposition, flow.case, "warning", {}, POLICE_OFFICER, at)
    _raises("invalid_disposition", propose_disposition, flow.case, "flog", {}, ANALYST, at)
    exc = _raises(
        "invalid_disposition", propose_disposition, flow.case, "close_accounts", {}, ANALYST, at
    )
    assert "账号数量" in exc.message_zh
    # A deadline must fall after the day of the decision (in China).
    today = at.date().isoformat()
    _raises(
        "invalid_disposition",
        propose_disposition,
        flow.case,
        "rectify",
        {"deadline": today},
        ANALYST,
        at,
    )
    new, event = propose_disposition(
        flow.case, "rectify", {"deadline": date(2020, 10, 31)}, ANALYST, at, "限期整改"
    )
    assert event.payload["params"] == {"deadline": "2020-10-31"}
    assert event.payload["disposition_id"] == "SH-2020-0001/D1" and event.reason == "限期整改"
    assert new.dispositions[0].params == {"deadline": date(2020, 10, 31)}


def test_decision_rules() -> None:
    flow = _disposing_flow()
    did = flow.propose("rectify", {"deadline": "2020-10-15"}, actor=LEADER)
    at = flow.at
    _raises("unknown_disposition", approve_disposition, flow.case, "X/D9", LEADER2, at)
    _raises("forbidden_role", approve_disposition, flow.case, did, OFFICER, at)
    _raises("self_approval", approve_disposition, flow.case, did, LEADER, at)
    _raises("reason_required", reject_disposition, flow.case, did, LEADER2, at)
    _raises("not_proposer", withdraw_disposition, flow.case, did, ANALYST, at)
    # Approving after the deadline has passed would order the impossible.
    late = datetime(2020, 10, 15, 12, tzinfo=SHANGHAI)
    _raises("invalid_disposition", approve_disposition, flow.case, did, LEADER2, late)
    flow.approve(did, LEADER2)
    _raises("disposition_not_pending", approve_disposition, flow.case, did, LEADER2, flow.at)
    _raises("disposition_not_pending", withdraw_disposition, flow.case, did, LEADER, flow.at)


def test_approval_waits_for_disposing() -> None:
    flow = _flow()
    flow.do("open", OFFICER)
    flow.do("assess", ANALYST)
    did = flow.propose("warning")
    _raises("invalid_from_state", approve_disposition, flow.case, did, LEADER, flow.at)
    new, event = withdraw_disposition(flow.case, did, ANALYST, flow.at)
    assert new.dispositions[0].status is DispositionStatus.withdrawn
    assert event.kind == "disposition.withdrawn"


def test_allowed_actions() -> None:
    case = _case()
    assert {t.action for t in allowed_actions(case, OFFICER)} == {"open", "dismiss", "transfer"}
    assert allowed_actions(case, ADMIN) == ()
    assert allowed_actions(case, POLICE_OFFICER) == ()
    flow = _disposing_flow()
    assert {t.action for t in allowed_actions(flow.case, LEADER)} == {"transfer"}
    flow.approve(flow.propose("interview"))
    assert {t.action for t in allowed_actions(flow.case, LEADER)} == {"notify", "transfer"}


# ---------------------------------------------------------------- random walks

ALL_ROLES = _actor("u:all", Role.officer, Role.analyst, Role.leader)
ACTORS = [
    OFFICER,
    ANALYST,
    LEADER,
    LEADER2,
    NATIONAL_LEADER,
    CITY_OFFICER,
    POLICE_OFFICER,
    ADMIN,
    ALL_ROLES,
]
PARAMS = {
    "rectify": {"deadline": "2099-12-31"},
    "suspend_updates": {"days": 30},
    "close_accounts": {"count": 3},
    "close_groups": {"count": 2},
    "ban_streamers": {"count": 1},
    "remove_content": {"count": 120},
    "penalty": {"amount": "20000"},
}


class CaseMachine(RuleBasedStateMachine):
    """Random actions by random actors; the model checks every outcome against the table."""

    @initialize(grounds=st.lists(st.sampled_from(sorted(get_taxonomy().categories)), min_size=1))
    def start(self, grounds: list[str]) -> None:
        case, event = new_case("RW-1", grounds, "310104", T0, created_by="system")
        if case.lead_department != "cyberspace":  # let the fixed actors drive the case
            case, event = new_case(
                "RW-1", grounds, "310104", T0, created_by="system", lead="cyberspace"
            )
        self.case = case
        self.at = T0
        self.log = [append(None, **event.audit_fields())]

    def _accept(self, before: CaseState, result: tuple[CaseState, Event]) -> CaseState:
        after, event = result
        assert not before.terminal, "a terminal case changed"
        assert after.version == before.version + 1
        assert after.updated_at == event.at >= before.updated_at
        self.log.append(append(self.log[-1], **event.audit_fields()))
        self.case = after
        return after

    @rule(
        action=st.sampled_from([*sorted(ACTIONS), "escalate"]),
        actor=st.sampled_from(ACTORS),
        reason=st.none() | st.sampled_from(["", "理由"]),
        receiver=st.none() | st.just("某市公安局"),
        step=st.integers(0, 3 * 86400),
    )
    def act(self, action, actor, reason, receiver, step) -> None:
        self._transition(action, actor, reason, receiver, step)

    @rule(fail=st.booleans(), code=st.sampled_from(sorted(registered())))
    def advance(self, fail: bool, code: str) -> None:
        """Move along the main line with capable actors, so walks reach the later states."""
        state, live = self.case.state, self.case.live_dispositions()
        pending = [d for d in live if d.status is DispositionStatus.proposed]
        if state in (State.assessing, State.rectifying) and not live:
            self._propose(code, ANALYST)
        elif pending and state in DISPOSITION_OPS["approve"].states:
            approver = LEADER2 if pending[0].proposed_by == LEADER.id else LEADER
            self._decide("approve", pending[0], approver)
        else:
            action = {
                State.lead: "open",
                State.opened: "assess",
                State.assessing: "dispose",
                State.disposing: "notify",
                State.rectifying: "recheck",
                State.rechecking: "fail_recheck" if fail else "close",
            }.get(state, "close")
            self._transition(action, ALL_ROLES, "理由", None, 3600)

    def _transition(self, action, actor, reason, receiver, step) -> None:
        before = self.case
        self.at += timedelta(seconds=step)
        try:
            result = transition(before, action, actor, self.at, reason, target=receiver)
        except TransitionError as exc:
            assert exc.code and _CJK.search(exc.message_zh)
            if before.terminal and action in ACTIONS:
                assert exc.code == "terminal"
            return
        row = TABLE[(before.state, action)]  # every accepted transition is a row
        assert result[0].state is row.target
        assert any(actor.has(r) for r in row.roles)
        assert result[1].payload["role"] in row.roles
        assert not row.needs_reason or (reason or "").strip()
        assert actor.department == before.lead_department
        if row.guard is not None:
            live = before.live_dispositions()
            assert live and all(d.status is DispositionStatus.approved for d in live)
        self._accept(before, result)

    @rule(code=st.sampled_from(sorted(registered())), actor=st.sampled_from(ACTORS))
    def propose(self, code, actor) -> None:
        self._propose(code, actor)

    def _propose(self, code, actor) -> None:
        before = self.case
        self.at += timedelta(minutes=5)
        try:
            result = propose_disposition(before, code, PARAMS.get(code, {}), actor, self.at)
        except TransitionError:
            return
        assert before.state in DISPOSITION_OPS["propose"].states
        after = self._accept(before, result)
        assert after.dispositions[-1].status is DispositionStatus.proposed

    @rule(
        op=st.sampled_from(["approve", "reject", "withdraw"]),
        index=st.integers(0, 5),
        actor=st.sampled_from(ACTORS),
    )
    def decide(self, op, index, actor) -> None:
        if self.case.dispositions:
            self._decide(op, self.case.dispositions[index % len(self.case.dispositions)], actor)

    def _decide(self, op, target, actor) -> None:
        before = self.case
        func = {
            "approve": approve_disposition,
            "reject": reject_disposition,
            "withdraw": withdraw_disposition,
        }[op]
        self.at += timedelta(minutes=5)
        try:
            result = func(before, target.id, actor, self.at, "理由")
        except TransitionError:
            return
        assert before.state in DISPOSITION_OPS[op].states
        assert target.status is DispositionStatus.proposed
        if op == "approve":
            assert actor.has(Role.leader) and actor.id != target.proposed_by
        self._accept(before, result)

    @invariant()
    def state_is_in_the_machine(self) -> None:
        assert self.case.state in set(State)
        event(f"reached {self.case.state}")  # --hypothesis-show-statistics shows coverage
        assert self.case.version == len(self.log) - 1
        # a disposition is approved only by a leader other than its proposer
        for d in self.case.dispositions:
            if d.status is DispositionStatus.approved:
                assert d.decided_by != d.proposed_by

    @invariant()
    def audit_chain_verifies(self) -> None:
        assert verify(self.log).ok


TestCaseMachine = CaseMachine.TestCase
TestCaseMachine.settings = settings(deadline=None, max_examples=150, stateful_step_count=40)
