"""Dispositions (处置措施) as registered classes: code, Chinese name, typed parameters.

Each class declares its parameters (a rectification deadline, a count of accounts, a fine in
yuan), the statistics counters it feeds (data/counters.toml, in the words of the 2021 report)
and `examples` of valid and invalid parameter sets that drive the shared test in
tests/govern/test_dispositions.py. Parameters arrive from JSON or CSV, so validation accepts
the plain forms those give (ISO date strings, digit strings, decimal strings) and returns
typed values: `datetime.date`, `int`, `decimal.Decimal`. Money never passes through float.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar

from qinglang.package_data import read_data

# Bounds chosen so counts fit a 32-bit column and fines a NUMERIC(14, 2).
MAX_COUNT = 1_000_000_000
MAX_AMOUNT = Decimal("999999999999.99")
_CENT = Decimal("0.01")


class DispositionError(ValueError):
    """Unknown disposition or bad parameters; `message_zh` is for the end user."""

    def __init__(self, message: str, message_zh: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message_zh = message_zh
        self.param = param


class ParamKind(StrEnum):
    date = "date"  # a calendar day in China (ISO "YYYY-MM-DD")
    count = "count"  # a whole number ≥ 1
    amount = "amount"  # yuan, > 0, at most two decimal places (fen)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: ParamKind
    label: str  # Chinese label for forms and messages
    required: bool = True


@dataclass(frozen=True, slots=True)
class Feed:
    """A statistics counter this disposition feeds; `param` supplies the amount for `sum`."""

    counter: str
    param: str | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """A parameter set and whether it is valid; `normalised` is the expected result if given."""

    params: Mapping[str, Any]
    valid: bool
    normalised: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Counter:
    code: str
    name: str
    unit: str
    measure: str  # "sum" | "distinct_subjects" | "distinct_cases"
    source: str


MEASURES = ("sum", "distinct_subjects", "distinct_cases")


@cache
def counters() -> dict[str, Counter]:
    """The statistics counters (data/counters.toml) by code."""
    out: dict[str, Counter] = {}
    for row in tomllib.loads(read_data("qinglang.govern", "counters.toml"))["counter"]:
        counter = Counter(**{k: row[k] for k in ("code", "name", "unit", "measure", "source")})
        if counter.code in out:
            raise ValueError(f"duplicate counter {counter.code!r}")
        if counter.measure not in MEASURES:
            raise ValueError(f"counter {counter.code}: unknown measure {counter.measure!r}")
        out[counter.code] = counter
    return out


# ---------------------------------------------------------------- parameter parsing


def _bad(param: Param, message: str, message_zh: str) -> DispositionError:
    return DispositionError(f"{param.name}: {message}", f"{param.label}{message_zh}", param.name)


def _parse_date(param: Param, raw: Any) -> date:
    # datetime is a date subclass, but a time of day (and its zone) has no place in a deadline.
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip()
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
    raise _bad(param, "must be a date YYYY-MM-DD", "应为日期，格式如2024-06-30。")


def _parse_count(param: Param, raw: Any) -> int:
    value: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip()
        if re.fullmatch(r"[0-9]{1,12}", text):
            value = int(text)
    if value is None:
        raise _bad(param, "must be a whole number", "应为整数。")
    if not 1 <= value <= MAX_COUNT:
        raise _bad(param, f"must be between 1 and {MAX_COUNT}", f"应在1至{MAX_COUNT}之间。")
    return value


def _parse_amount(param: Param, raw: Any) -> Decimal:
    value: Decimal | None = None
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int) and not isinstance(raw, bool):
        value = Decimal(raw)
    elif isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip()
        if re.fullmatch(r"[0-9]{1,15}(?:\.[0-9]{1,2})?", text):
            try:
                value = Decimal(text)
            except InvalidOperation:
                value = None
    if value is None or not value.is_finite():
        # Floats are refused on purpose: 0.1 + 0.2 is not a sum of money.
        raise _bad(
            param, "must be a decimal amount in yuan (string or Decimal)", "应为金额（元）。"
        )
    if value != value.quantize(_CENT, rounding=ROUND_DOWN):
        raise _bad(param, "has more than two decimal places", "最多保留两位小数（分）。")
    if not Decimal(0) < value <= MAX_AMOUNT:
        raise _bad(param, "must be greater than 0", "应大于0元且在合理范围内。")
    return value.quantize(_CENT)


def _parse(param: Param, raw: Any) -> Any:
    if param.kind is ParamKind.date:
        return _parse_date(param, raw)
    if param.kind is ParamKind.count:
        return _parse_count(param, raw)
    return _parse_amount(param, raw)


def _dump(kind: ParamKind, value: Any) -> Any:
    if kind is ParamKind.date:
        return value.isoformat()
    if kind is ParamKind.amount:
        return str(value)
    return value


# ---------------------------------------------------------------- the base class and registry


class Disposition:
    """A kind of disposition. Subclasses set the class attributes and register themselves."""

    code: ClassVar[str]
    name: ClassVar[str]  # Chinese name, as in the notices
    params: ClassVar[tuple[Param, ...]] = ()
    feeds: ClassVar[tuple[Feed, ...]] = ()
    examples: ClassVar[tuple[Example, ...]]

    @classmethod
    def validate(cls, raw: Mapping[str, Any] | None) -> dict[str, Any]:
        """Typed, normalised parameters, or `DispositionError` for the first problem found."""
        raw = dict(raw or {})
        known = {p.name for p in cls.params}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise DispositionError(
                f"{cls.code}: unknown parameters {unknown}",
                f"“{cls.name}”不接受参数：{'、'.join(map(str, unknown))}。",
                str(unknown[0]),
            )
        out: dict[str, Any] = {}
        for param in cls.params:
            value = raw.get(param.name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if param.required:
                    raise _bad(param, "is required", "必须填写。")
                continue
            out[param.name] = _parse(param, value)
        return out

    @classmethod
    def check_decided_on(cls, params: Mapping[str, Any], day: date) -> None:
        """Checks that need the decision day (China): deadlines must lie after it."""
        for param in cls.params:
            value = params.get(param.name)
            if param.kind is ParamKind.date and value is not None and value <= day:
                raise _bad(
                    param,
                    f"{value.isoformat()} is not after the decision day {day.isoformat()}",
                    f"应晚于决定日期（{day.isoformat()}）。",
                )

    @classmethod
    def dump(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """JSON-native parameters (ISO dates, decimal strings) for storage and audit."""
        kinds = {p.name: p.kind for p in cls.params}
        return {name: _dump(kinds[name], value) for name, value in params.items()}

    @classmethod
    def increments(cls, params: Mapping[str, Any]) -> dict[str, int | Decimal]:
        """What one approved disposition adds to each counter it feeds.

        `distinct_*` counters get 1 here; the statistics layer must count them once per
        subject or case (see data/counters.toml), not add these ones up blindly.
        """
        out: dict[str, int | Decimal] = {}
        for feed in cls.feeds:
            out[feed.counter] = params.get(feed.param, 0) if feed.param else 1
        return out


_REGISTRY: dict[str, type[Disposition]] = {}


def register(cls: type[Disposition]) -> type[Disposition]:
    """Class decorator: add a disposition kind under its unique code."""
    if cls.code in _REGISTRY and _REGISTRY[cls.code] is not cls:
        raise ValueError(f"disposition {cls.code!r} registered twice")
    _REGISTRY[cls.code] = cls
    return cls


def registered() -> dict[str, type[Disposition]]:
    """All disposition kinds by code, in registration order."""
    return dict(_REGISTRY)


def get_disposition(code: str) -> type[Disposition]:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise DispositionError(
            f"unknown disposition {code!r}", f"未知的处置措施：{code}", None
        ) from None


# ---------------------------------------------------------------- the kinds (DESIGN.md)

_NONE_VALID = Example({}, True, {})


def _no_params_examples(stray: str = "count") -> tuple[Example, ...]:
    return (_NONE_VALID, Example({stray: 1}, False), Example({"note": "x"}, False))


@register
class Interview(Disposition):
    code = "interview"
    name = "约谈"
    feeds = (Feed("sites_interviewed"),)
    examples = _no_params_examples()


@register
class IssueWarning(Disposition):
    code = "warning"
    name = "警告"
    feeds = (Feed("sites_warned"),)
    examples = _no_params_examples("amount")


@register
class Rectify(Disposition):
    """责令限期整改: the deadline drives overdue detection and the re-check."""

    code = "rectify"
    name = "责令限期整改"
    params = (Param("deadline", ParamKind.date, "整改期限"),)
    feeds = (Feed("rectifications_ordered"),)
    examples = (
        Example({"deadline": "2020-11-30"}, True, {"deadline": date(2020, 11, 30)}),
        Example({"deadline": date(2021, 3, 31)}, True, {"deadline": date(2021, 3, 31)}),
        Example({"deadline": " ２０２０-１２-３１ "}, True, {"deadline": date(2020, 12, 31)}),
        Example({}, False),
        Example({"deadline": ""}, False),
        Example({"deadline": "2020-02-30"}, False),
        Example({"deadline": "30/11/2020"}, False),
        Example({"deadline": datetime(2020, 11, 30, 12, 0)}, False),
        Example({"deadline": 20201130}, False),
    )


@register
class SuspendUpdates(Disposition):
    code = "suspend_updates"
    name = "暂停更新"
    params = (Param("days", ParamKind.count, "暂停天数", required=False),)
    feeds = (Feed("sites_suspended"),)
    examples = (
        Example({}, True, {}),
        Example({"days": 30}, True, {"days": 30}),
        Example({"days": "7"}, True, {"days": 7}),
        Example({"days": 0}, False),
        Example({"days": 1.5}, False),
        Example({"deadline": "2020-11-30"}, False),
    )


@register
class Delist(Disposition):
    code = "delist"
    name = "下架"
    feeds = (Feed("apps_delisted"),)
    examples = _no_params_examples()


@register
class Shutdown(Disposition):
    code = "shutdown"
    name = "关停/关闭网站"
    feeds = (Feed("sites_closed"),)
    examples = _no_params_examples()


@register
class RevokeLicense(Disposition):
    code = "revoke_license"
    name = "取消许可或备案"
    feeds = (Feed("sites_closed"),)
    examples = _no_params_examples()


def _count_examples() -> tuple[Example, ...]:
    return (
        Example({"count": 1}, True, {"count": 1}),
        Example({"count": 72000}, True, {"count": 72000}),
        Example({"count": " 120 "}, True, {"count": 120}),
        Example({"count": "３"}, True, {"count": 3}),
        Example({}, False),
        Example({"count": 0}, False),
        Example({"count": -5}, False),
        Example({"count": True}, False),
        Example({"count": 2.0}, False),
        Example({"count": "1e3"}, False),
        Example({"count": MAX_COUNT + 1}, False),
    )


@register
class CloseAccounts(Disposition):
    code = "close_accounts"
    name = "关闭账号"
    params = (Param("count", ParamKind.count, "账号数量"),)
    feeds = (Feed("accounts_handled", "count"),)
    examples = _count_examples()


@register
class CloseGroups(Disposition):
    code = "close_groups"
    name = "关闭群组"
    params = (Param("count", ParamKind.count, "群组数量"),)
    feeds = (Feed("groups_closed", "count"),)
    examples = _count_examples()


@register
class BanStreamers(Disposition):
    code = "ban_streamers"
    name = "封禁主播"
    params = (Param("count", ParamKind.count, "主播数量"),)
    feeds = (Feed("streamers_banned", "count"),)
    examples = _count_examples()


@register
class RemoveContent(Disposition):
    code = "remove_content"
    name = "清理信息"
    params = (Param("count", ParamKind.count, "信息条数"),)
    feeds = (Feed("items_cleaned", "count"),)
    examples = _count_examples()


@register
class Penalty(Disposition):
    code = "penalty"
    name = "行政处罚"
    params = (Param("amount", ParamKind.amount, "罚款金额（元）"),)
    feeds = (Feed("penalties_imposed"), Feed("fines_yuan", "amount"))
    examples = (
        Example({"amount": "50000"}, True, {"amount": Decimal("50000.00")}),
        Example({"amount": "0.01"}, True, {"amount": Decimal("0.01")}),
        Example({"amount": Decimal("1234.5")}, True, {"amount": Decimal("1234.50")}),
        Example({"amount": 100000}, True, {"amount": Decimal("100000.00")}),
        Example({}, False),
        Example({"amount": "0"}, False),
        Example({"amount": "-100"}, False),
        Example({"amount": 100.5}, False),
        Example({"amount": "12.345"}, False),
        Example({"amount": "1,000"}, False),
        Example({"amount": Decimal("NaN")}, False),
        Example({"amount": "1000000000000"}, False),
    )


@register
class Expose(Disposition):
    code = "expose"
    name = "公开曝光"
    feeds = (Feed("cases_exposed"),)
    examples = _no_params_examples()


@register
class TransferJudicial(Disposition):
    code = "transfer_judicial"
    name = "移送司法"
    feeds = (Feed("leads_transferred"),)
    examples = _no_params_examples()


@register
class Commitment(Disposition):
    code = "commitment"
    name = "签订整改承诺书"
    feeds = (Feed("commitments_signed"),)
    examples = _no_params_examples()


@register
class NotifyCompany(Disposition):
    code = "notify_company"
    name = "通报企业"
    feeds = (Feed("companies_notified"),)
    examples = _no_params_examples()


@dataclass(frozen=True, slots=True)
class DispositionSpec:
    """A validated disposition: its kind's code and typed parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, code: str, raw: Mapping[str, Any] | None = None) -> DispositionSpec:
        return cls(code=code, params=get_disposition(code).validate(raw))

    @property
    def kind(self) -> type[Disposition]:
        return get_disposition(self.code)

    def dump(self) -> dict[str, Any]:
        return self.kind.dump(self.params)
