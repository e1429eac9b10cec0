"""Dispositions: the shared example-driven test, registry and counter data, round trips."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.govern.dispositions import (
    MAX_AMOUNT,
    MAX_COUNT,
    Disposition,
    DispositionError,
    DispositionSpec,
    Example,
    ParamKind,
    counters,
    get_disposition,
    register,
    registered,
)

KINDS = registered()
CASES = [
    pytest.param(cls, ex, id=f"{code}-{i}")
    for code, cls in KINDS.items()
    for i, ex in enumerate(cls.examples)
]
_CJK = re.compile(r"[\u4e00-\u9fff]")

# DESIGN.md, "Dispositions".
DESIGN_CODES = {
    "interview": "约谈",
    "warning": "警告",
    "rectify": "责令限期整改",
    "suspend_updates": "暂停更新",
    "delist": "下架",
    "shutdown": "关停/关闭网站",
    "revoke_license": "取消许可或备案",
    "close_accounts": "关闭账号",
    "close_groups": "关闭群组",
    "ban_streamers": "封禁主播",
    "remove_content": "清理信息",
    "penalty": "行政处罚",
    "expose": "公开曝光",
    "transfer_judicial": "移送司法",
    "commitment": "签订整改承诺书",
    "notify_company": "通报企业",
}


@pytest.mark.parametrize(("cls", "example"), CASES)
def test_example(cls: type[Disposition], example: Example) -> None:
    if example.valid:
        params = cls.validate(example.params)
        if example.normalised is not None:
            assert params == dict(example.normalised)
            assert {k: type(v) for k, v in params.items()} == {
                k: type(v) for k, v in example.normalised.items()
            }
        # dump is JSON-native and validates back to the same typed values
        dumped = cls.dump(params)
        assert json.loads(json.dumps(dumped)) == dumped
        assert cls.validate(dumped) == params
    else:
        with pytest.raises(DispositionError) as info:
            cls.validate(example.params)
        assert info.value.args[0]
        assert _CJK.search(info.value.message_zh)


def test_the_kinds_are_those_of_the_design() -> None:
    assert {code: cls.name for code, cls in KINDS.items()} == DESIGN_CODES


@pytest.mark.parametrize("cls", KINDS.values(), ids=list(KINDS))
def test_every_kind_has_valid_and_invalid_examples(cls: type[Disposition]) -> None:
    assert any(ex.valid for ex in cls.examples)
    assert any(not ex.valid for ex in cls.examples)
    for param in cls.params:
        assert _CJK.search(param.label)
        if param.required:  # a missing required parameter is among the invalid examples
            assert any(not ex.valid and param.name not in ex.params for ex in cls.examples)


def test_required_parameters_of_the_brief() -> None:
    def kinds(code: str) -> dict[str, tuple[ParamKind, bool]]:
        return {p.name: (p.kind, p.required) for p in get_disposition(code).params}

    assert kinds("rectify") == {"deadline": (ParamKind.date, True)}
    assert kinds("penalty") == {"amount": (ParamKind.amount, True)}
    for code in ("close_accounts", "close_groups", "ban_streamers", "remove_content"):
        assert kinds(code) == {"count": (ParamKind.count, True)}


def test_feeds_reference_counters_consistently() -> None:
    table = counters()
    fed: set[str] = set()
    for cls in KINDS.values():
        names = {p.name: p for p in cls.params}
        for feed in cls.feeds:
            counter = table[feed.counter]
            fed.add(feed.counter)
            if counter.measure == "sum":
                assert feed.param in names and names[feed.param].required, (cls.code, feed)
                assert names[feed.param].kind in (ParamKind.count, ParamKind.amount)
            else:
                assert feed.param is None, (cls.code, feed)
    assert fed == set(table), set(table) - fed


def test_report_003_words_are_counters() -> None:
    names = {c.code: c.name for c in counters().values()}
    assert names["items_cleaned"] == "清理违法违规信息"
    assert names["accounts_handled"] == "处置账号"
    assert names["streamers_banned"] == "封禁违规主播"
    assert names["sites_interviewed"] == "约谈网站"
    assert names["leads_transferred"] == "移送司法机关相关案件线索"
    # Closing a site and revoking its filing are one closed site in the report.
    assert get_disposition("shutdown").feeds == get_disposition("revoke_license").feeds


def test_increments() -> None:
    penalty = get_disposition("penalty")
    assert penalty.increments(penalty.validate({"amount": "5000"})) == {
        "penalties_imposed": 1,
        "fines_yuan": Decimal("5000.00"),
    }
    accounts = get_disposition("close_accounts")
    assert accounts.increments(accounts.validate({"count": 72000})) == {"accounts_handled": 72000}
    assert get_disposition("interview").increments({}) == {"sites_interviewed": 1}


def test_deadline_must_follow_the_decision_day() -> None:
    rectify = get_disposition("rectify")
    params = rectify.validate({"deadline": "2020-11-30"})
    rectify.check_decided_on(params, date(2020, 11, 29))
    for day in (date(2020, 11, 30), date(2020, 12, 1)):
        with pytest.raises(DispositionError) as info:
            rectify.check_decided_on(params, day)
        assert info.value.param == "deadline" and "决定日期" in info.value.message_zh
    # kinds without dates have nothing to check
    get_disposition("warning").check_decided_on({}, date(2020, 1, 1))


def test_unknown_kind_and_double_registration() -> None:
    with pytest.raises(DispositionError) as info:
        get_disposition("flog")
    assert "未知" in info.value.message_zh
    with pytest.raises(DispositionError):
        DispositionSpec.parse("flog", {})

    class Impostor(Disposition):
        code = "warning"
        name = "冒名"
        examples = ()

    with pytest.raises(ValueError, match="registered twice"):
        register(Impostor)
    assert registered()["warning"] is not Impostor


def test_spec_parse_and_dump() -> None:
    spec = DispositionSpec.parse("rectify", {"deadline": "2020-12-15"})
    assert spec.params == {"deadline": date(2020, 12, 15)}
    assert spec.dump() == {"deadline": "2020-12-15"}
    assert spec.kind is get_disposition("rectify")
    assert DispositionSpec.parse("expose").params == {}


@settings(deadline=None)
@given(st.integers(1, MAX_COUNT), st.booleans())
def test_any_count_in_range_round_trips(n: int, as_text: bool) -> None:
    cls = get_disposition("remove_content")
    params = cls.validate({"count": str(n) if as_text else n})
    assert params == {"count": n}
    assert cls.validate(cls.dump(params)) == params


@settings(deadline=None)
@given(st.integers().filter(lambda n: not 1 <= n <= MAX_COUNT))
def test_counts_out_of_range_are_refused(n: int) -> None:
    with pytest.raises(DispositionError):
        get_disposition("ban_streamers").validate({"count": n})


@settings(deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2))
def test_any_amount_in_fen_round_trips(amount: Decimal) -> None:
    cls = get_disposition("penalty")
    params = cls.validate({"amount": str(amount)})
    assert params["amount"] == amount
    assert cls.validate(cls.dump(params)) == params
    assert cls.validate({"amount": amount}) == params


@settings(deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_never_money(value: float) -> None:
    with pytest.raises(DispositionError):
        get_disposition("penalty").validate({"amount": value})
