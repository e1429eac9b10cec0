"""`qinglang guard`: ask the minors' time and spending rules from the command line.

Every command prints exactly one JSON object on one line. Exit codes: 0 for an answer (allowed
or not), 1 for `guard calendar` when years lack holiday data, 2 for bad input (a message in
English and Chinese on stderr, never a traceback).

`--at` is ISO 8601 with a time of day; without a UTC offset it is read as Asia/Shanghai time,
with one the offset is honoured. Money is given in yuan and parsed as a decimal (at most two
decimal places), then handled in fen as int — never as a float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from qinglang.guard.decision import PlatformKind

guard_app = typer.Typer(
    help="Minors' play-time and payment rules (防沉迷): decisions, rule sets, calendar.",
    no_args_is_help=True,
)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A date, a time of day (seconds and fractions optional) and an optional offset.
_ISO_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_YUAN = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
# Instants outside these years are refused as input errors (the rules look days ahead and
# must not overflow the calendar of `datetime`).
_MIN_YEAR, _MAX_YEAR = 1900, 9000
# Amounts beyond this many yuan are absurd: refused before any arithmetic.
_MAX_YUAN = Decimal(10) ** 12
_PLATFORMS = ("game", "video", "live")
_READINGS = ("schedule", "literal")


class _BadInput(Exception):
    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


def _fail(message: str, message_zh: str) -> NoReturn:
    typer.echo(f"error: {message} ({message_zh})", err=True)
    raise typer.Exit(2)


def _emit(payload: object) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False))


def _parse_date(text: str, option: str) -> date:
    try:
        if not _ISO_DATE.fullmatch(text.strip()):
            raise ValueError(text)
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _BadInput(
            f"{option} must be a date YYYY-MM-DD, not {text!r}",
            f"{option} 应为日期 YYYY-MM-DD：{text}",
        ) from None


def _parse_instant(text: str) -> datetime:
    from qinglang.guard.ages import SHANGHAI

    bad = _BadInput(
        f"--at must be ISO 8601 with a time of day (e.g. 2026-12-04T20:30:00+08:00), not {text!r}",
        f"--at 应为带时刻的 ISO 8601 时间（如 2026-12-04T20:30:00+08:00）：{text}",
    )
    text = text.strip()
    if not _ISO_INSTANT.fullmatch(text):
        raise bad
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise bad from None
    if not _MIN_YEAR <= at.year <= _MAX_YEAR:
        raise _BadInput(
            f"--at must lie in the years {_MIN_YEAR}–{_MAX_YEAR}",
            f"--at 的年份须在{_MIN_YEAR}至{_MAX_YEAR}之间。",
        )
    if at.tzinfo is None:
        at = at.replace(tzinfo=SHANGHAI)  # documented: no offset means Shanghai time
    return at


def _parse_platform(text: str) -> PlatformKind:
    from qinglang.guard.decision import PlatformKind

    if text not in _PLATFORMS:
        raise _BadInput(
            f"--platform must be one of {', '.join(_PLATFORMS)}, not {text!r}",
            f"未知的平台类型：{text}（可选 game、video、live）。",
        )
    return PlatformKind(text)


def _parse_birth(birth: str | None, guest: bool) -> date | None:
    if guest and birth is not None:
        raise _BadInput(
            "give either --birth or --guest, not both", "--birth 与 --guest 只能二选一。"
        )
    if not guest and birth is None:
        raise _BadInput(
            "give --birth YYYY-MM-DD (or --guest for an unverified user)",
            "请提供 --birth 出生日期（未实名用户用 --guest）。",
        )
    return None if guest else _parse_date(birth or "", "--birth")


def _parse_fen(text: str, option: str) -> int:
    """Yuan as text → fen as int; at most two decimal places; sign left to the caller."""
    cleaned = text.strip()
    if not _YUAN.fullmatch(cleaned):
        raise _BadInput(
            f"{option} must be an amount in yuan like 30 or 12.50, not {text!r}",
            f"{option} 应为以元为单位的金额（如 30 或 12.50）：{text}",
        )
    try:
        yuan = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise _BadInput(f"{option}: bad amount {text!r}", f"{option} 金额无效：{text}") from None
    if abs(yuan) > _MAX_YUAN:
        raise _BadInput(f"{option} is out of range", f"{option} 金额超出范围。")
    fen = yuan * 100
    if fen != fen.to_integral_value():
        raise _BadInput(
            f"{option} has more than two decimal places: {text!r}",
            f"{option} 最多两位小数（精确到分）：{text}",
        )
    return int(fen)


def _guarded(run: Callable[[], None]) -> None:
    """Run a command body, turning input errors into exit 2 with a bilingual message."""
    from qinglang.guard.rulesets import GuardInputError

    try:
        run()
    except (_BadInput, GuardInputError) as exc:
        _fail(str(exc), exc.message_zh)
    except OverflowError:
        _fail("the instant is out of range", "时间超出可计算范围。")


BirthOption = Annotated[
    str | None,
    typer.Option("--birth", help="Birth date YYYY-MM-DD (exactly one of --birth and --guest)."),
]
GuestOption = Annotated[
    bool, typer.Option("--guest", help="An unverified guest (no birth date known).")
]
AtOption = Annotated[
    str,
    typer.Option(
        "--at",
        help="The instant, ISO 8601 with a time of day; without an offset it is Shanghai time.",
    ),
]
RulesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--rules",
        help="Rule set to apply (repeat for several). [default: those in force on the day]",
    ),
]


@guard_app.command("decide")
def decide(
    at: AtOption,
    platform: Annotated[str, typer.Option("--platform", help="game, video or live.")],
    birth: BirthOption = None,
    guest: GuestOption = False,
    rules: RulesOption = None,
    used_today_min: Annotated[
        int, typer.Option("--used-today-min", help="Minutes already used today.")
    ] = 0,
    play_days: Annotated[
        str,
        typer.Option(
            "--play-days",
            envvar="QINGLANG_GUARD_PLAY_DAYS",
            help="Reading of nppa-2021's play days: schedule or literal.",
        ),
    ] = "schedule",
) -> None:
    """May this person play (watch) now, for how long, and when next? One JSON object."""

    def run() -> None:
        from qinglang.guard.calendar import GuardCalendar, PlayDayReading
        from qinglang.guard.rulesets import PlayRequest, evaluate, resolve

        when = _parse_instant(at)
        born = _parse_birth(birth, guest)
        kind = _parse_platform(platform)
        if play_days not in _READINGS:
            raise _BadInput(
                f"--play-days must be schedule or literal, not {play_days!r}",
                f"--play-days 只能是 schedule 或 literal：{play_days}",
            )
        if used_today_min < 0:
            raise _BadInput("--used-today-min must be ≥ 0", "今日已用时长不能为负数。")
        request = PlayRequest(when, born, used_today_s=used_today_min * 60)
        sets = resolve(kind, when, rules or [])
        calendar = GuardCalendar(reading=PlayDayReading(play_days))
        _emit(evaluate(sets, request, calendar).as_dict())

    _guarded(run)


@guard_app.command("pay")
def pay(
    at: AtOption,
    amount_yuan: Annotated[
        str, typer.Option("--amount-yuan", help="The payment in yuan, at most two decimals.")
    ],
    birth: BirthOption = None,
    guest: GuestOption = False,
    spent_month_yuan: Annotated[
        str,
        typer.Option("--spent-month-yuan", help="Yuan already spent this month (Shanghai)."),
    ] = "0",
    rules: RulesOption = None,
    platform: Annotated[str, typer.Option("--platform", help="game, video or live.")] = "game",
    tip: Annotated[bool, typer.Option("--tip", help="A tip (打赏), not a top-up.")] = False,
) -> None:
    """May this person pay this amount now? One JSON object."""

    def run() -> None:
        from qinglang.guard.rulesets import PayKind, PayRequest, evaluate_payment, resolve

        when = _parse_instant(at)
        born = _parse_birth(birth, guest)
        kind = _parse_platform(platform)
        amount = _parse_fen(amount_yuan, "--amount-yuan")
        spent = _parse_fen(spent_month_yuan, "--spent-month-yuan")
        request = PayRequest(when, born, amount, spent, PayKind.tip if tip else PayKind.payment)
        sets = resolve(kind, when, rules or [])
        _emit(evaluate_payment(sets, request).as_dict())

    _guarded(run)


@guard_app.command("rules")
def rules_list() -> None:
    """The registered rule sets: name, title, source, effective dates, platforms."""
    from qinglang.guard.rulesets import all_rule_sets

    _emit({"rule_sets": [rs.describe() for rs in all_rule_sets()]})


@guard_app.command("calendar")
def calendar(
    today: Annotated[
        str | None,
        typer.Option("--today", help="Report for this day (YYYY-MM-DD), not today in Shanghai."),
    ] = None,
) -> None:
    """Holiday-calendar coverage for this year and the next (exit 1 when years are missing)."""
    from qinglang.guard.ages import local_day
    from qinglang.guard.calendar import GuardCalendar

    try:
        day = (
            local_day(datetime.now().astimezone())
            if today is None
            else _parse_date(today, "--today")
        )
    except _BadInput as exc:
        _fail(str(exc), exc.message_zh)
    report = GuardCalendar().coverage_report(day)
    _emit(report)
    if not report["ok"]:
        raise typer.Exit(1)
