"""Youth mode (青少年模式 / 未成年人模式) for video and live platforms: the pure core.

Three parts, all plain values in and out:

- the content pool: `filter_pool` keeps the items that suit a viewer's age band. It is
  default-deny: an item without an age tag is refused, an item tagged for an older band is
  refused, an item the platform put in a harm category is refused, and an item whose text the
  content-safety Detector does not pass (in the strict `children` scene) is refused.
- function switches: which features (tipping, top-up, live streaming, private messages …) are off
  in youth mode, per rule set and age band, read from data/youth_mode.toml with a source per entry.
- rest reminders and the guardian's daily extension (15 min to 2 h). Verifying the guardian's
  password happens elsewhere (argon2); this module only checks the request itself.

End-user messages are in Simplified Chinese (`message_zh`); see docs/youth-mode.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from qinglang.detect import Action, Detector
from qinglang.guard.ages import AgeBand, band_of, local_day
from qinglang.package_data import read_data
from qinglang.taxonomy import get_taxonomy

# Bounds per call, so hostile input costs bounded time and memory.
MAX_ITEMS = 1_000
MAX_TEXT_CHARS = 4_000
MAX_ID_CHARS = 128
MAX_CATEGORIES = 32
MAX_CATEGORY_CHARS = 64

# Rest reminders: the CAC minor-mode guide (2024) asks for a rest reminder after 30 minutes of
# continuous use; the interval a caller may choose is bounded to 1 min … 24 h.
REST_INTERVAL_S = 1_800
MIN_REST_INTERVAL_S = 60
MAX_REST_INTERVAL_S = 86_400

# A guardian may extend a minor's time for today by 15 minutes to 2 hours in all.
MIN_EXTENSION_S = 900
MAX_EXTENSION_S = 7_200

# The scene the Detector uses for youth-mode pools (the strictest shipped one).
YOUTH_SCENE = "children"

_MINOR_BANDS = tuple(b for b in AgeBand if b is not AgeBand.adult)
_BAND_ORDER = {band: i for i, band in enumerate(AgeBand)}


class YouthModeError(ValueError):
    """Bad input to youth mode; `message_zh` is for the end user, `field` names the culprit."""

    def __init__(self, message: str, message_zh: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message_zh = message_zh
        self.field = field


class UnknownRuleSetError(YouthModeError):
    pass


class UnknownFeatureError(YouthModeError):
    pass


class UnknownBandError(YouthModeError):
    pass


class ContentItemError(YouthModeError):
    pass


class PoolTooLargeError(YouthModeError):
    pass


class ExtensionError(YouthModeError):
    pass


class YouthModeDataError(ValueError):
    """data/youth_mode.toml is inconsistent (a packaging bug, not user input)."""


# -- age bands ------------------------------------------------------------------------------


def to_band(value: AgeBand | str) -> AgeBand:
    """An AgeBand from itself or its value ("8_12"); UnknownBandError otherwise."""
    if isinstance(value, AgeBand):
        return value
    if isinstance(value, str):
        try:
            return AgeBand(value)
        except ValueError:
            pass
    names = ", ".join(b.value for b in AgeBand)
    raise UnknownBandError(
        f"unknown age band {value!r} (known: {names})",
        f"未知的年龄段：{str(value)[:32]}。",
        "band",
    )


def band_suits(required: AgeBand, viewer: AgeBand) -> bool:
    """True when content for `required` (its lowest band) suits a viewer in `viewer`."""
    return _BAND_ORDER[required] <= _BAND_ORDER[viewer]


# -- content items --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContentItem:
    """A video, live room or post offered to the youth-mode pool.

    `min_age` (0–18, full years) or `age_band` (the lowest band the item suits) is the age tag;
    when both are given the older of the two counts. `categories` are the platform's own labels.
    """

    id: str
    text: str | None = None
    min_age: int | None = None
    age_band: AgeBand | None = None
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise ContentItemError("item id must be a non-empty string", "内容编号不能为空。", "id")
        if len(self.id) > MAX_ID_CHARS:
            raise ContentItemError(
                f"item id longer than {MAX_ID_CHARS} characters",
                f"内容编号不能超过{MAX_ID_CHARS}个字符。",
                "id",
            )
        if self.text is not None:
            if not isinstance(self.text, str):
                raise ContentItemError("text must be a string", "内容标题或简介格式错误。", "text")
            if len(self.text) > MAX_TEXT_CHARS:
                raise ContentItemError(
                    f"text longer than {MAX_TEXT_CHARS} characters",
                    f"内容标题和简介合计不能超过{MAX_TEXT_CHARS}个字符。",
                    "text",
                )
        if self.min_age is not None and (
            isinstance(self.min_age, bool)
            or not isinstance(self.min_age, int)
            or not 0 <= self.min_age <= 18
        ):
            raise ContentItemError(
                "min_age must be a whole number from 0 to 18",
                "适龄标签（最低年龄）必须是0到18之间的整数。",
                "min_age",
            )
        if self.age_band is not None:
            try:
                object.__setattr__(self, "age_band", to_band(self.age_band))
            except UnknownBandError as exc:
                raise ContentItemError(str(exc), exc.message_zh, "age_band") from None
        cats = self.categories
        if isinstance(cats, str) or not isinstance(cats, Iterable):
            raise ContentItemError(
                "categories must be a list of strings", "内容分类格式错误。", "categories"
            )
        cats = tuple(cats)
        if len(cats) > MAX_CATEGORIES:
            raise ContentItemError(
                f"more than {MAX_CATEGORIES} categories",
                f"内容分类不能超过{MAX_CATEGORIES}个。",
                "categories",
            )
        for cat in cats:
            if not isinstance(cat, str) or not cat.strip() or len(cat) > MAX_CATEGORY_CHARS:
                raise ContentItemError(
                    "each category must be a non-empty string of at most "
                    f"{MAX_CATEGORY_CHARS} characters",
                    "内容分类格式错误。",
                    "categories",
                )
        object.__setattr__(self, "categories", cats)

    @property
    def required_band(self) -> AgeBand | None:
        """The lowest band the item suits (the older tag when both are set); None: untagged."""
        by_age = band_of(self.min_age) if self.min_age is not None else None
        if self.age_band is None or by_age is None:
            return self.age_band or by_age
        return max(self.age_band, by_age, key=_BAND_ORDER.__getitem__)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ContentItem:
        """From a JSON/TOML object; unknown keys are refused."""
        if not isinstance(raw, Mapping):
            raise ContentItemError("item must be an object", "内容格式错误。")
        extra = set(raw) - {"id", "text", "min_age", "age_band", "categories"}
        if extra:
            raise ContentItemError(
                f"unknown item fields: {sorted(map(str, extra))}", "内容含有未知字段。"
            )
        return cls(
            id=raw.get("id"),  # type: ignore[arg-type]  # validated in __post_init__
            text=raw.get("text"),
            min_age=raw.get("min_age"),
            age_band=raw.get("age_band"),
            categories=tuple(raw.get("categories", ())),
        )


class RefusalReason(StrEnum):
    """Why an item is kept out of a youth-mode pool (stable codes)."""

    untagged = "untagged"
    too_old_for_band = "too_old_for_band"
    platform_category = "platform_category"
    harmful = "harmful"

    @property
    def message_zh(self) -> str:
        return _REFUSAL_MESSAGES[self]


_REFUSAL_MESSAGES = {
    RefusalReason.untagged: "该内容没有适龄标签，青少年模式下默认不展示。",
    RefusalReason.too_old_for_band: "该内容不适合当前年龄段的用户观看。",
    RefusalReason.platform_category: "该内容属于青少年模式下不展示的类别。",
    RefusalReason.harmful: "该内容含有可能影响未成年人身心健康的信息，青少年模式下不展示。",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    item_id: str
    reason: RefusalReason
    # Detector categories (harmful) or the platform's matching categories (platform_category).
    categories: tuple[str, ...] = ()
    # The item's own band, for too_old_for_band.
    required_band: AgeBand | None = None

    @property
    def message_zh(self) -> str:
        return self.reason.message_zh

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.item_id,
            "reason": str(self.reason),
            "message_zh": self.message_zh,
        }
        if self.categories:
            out["categories"] = list(self.categories)
        if self.required_band is not None:
            out["required_band"] = str(self.required_band)
        return out


@dataclass(frozen=True, slots=True)
class FilterResult:
    band: AgeBand
    allowed: tuple[ContentItem, ...] = ()
    refused: tuple[Refusal, ...] = ()

    @property
    def allowed_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.allowed)

    def outcome(self, item_id: str) -> str:
        """ "allowed" or the refusal reason code of the first item with this id."""
        for item in self.allowed:
            if item.id == item_id:
                return "allowed"
        for refusal in self.refused:
            if refusal.item_id == item_id:
                return str(refusal.reason)
        raise KeyError(item_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "band": str(self.band),
            "allowed": list(self.allowed_ids),
            "refused": [r.to_dict() for r in self.refused],
        }


@cache
def harm_category_codes() -> frozenset[str]:
    """The taxonomy's harm categories: a platform label among them keeps an item out."""
    return frozenset(get_taxonomy().categories)


def _norm_category(code: str) -> str:
    return code.strip().casefold()


def filter_pool(
    items: Iterable[ContentItem],
    band: AgeBand | str,
    detector: Detector,
    *,
    blocked_categories: Iterable[str] | None = None,
    refuse_review: bool = True,
    scene: str = YOUTH_SCENE,
) -> FilterResult:
    """The items a viewer in `band` may see in youth mode, and why each other item is refused.

    Checks in order (the first that fails decides): an age tag exists (default-deny), the tag
    suits the band, no platform category is blocked (default: the taxonomy's harm categories),
    and the Detector passes the text in `scene`. With `refuse_review` (the default) a text the
    Detector sends to review is refused too: youth mode shows only what is known to be safe.
    At most MAX_ITEMS items per call (PoolTooLargeError); the order of the input is kept.
    """
    viewer = to_band(band)
    pool: list[ContentItem] = []
    for item in items:
        if len(pool) >= MAX_ITEMS:
            raise PoolTooLargeError(
                f"more than {MAX_ITEMS} items in one call",
                f"每次最多筛选{MAX_ITEMS}条内容。",
                "items",
            )
        if not isinstance(item, ContentItem):
            raise ContentItemError(
                f"expected ContentItem, got {type(item).__name__}", "内容格式错误。", "items"
            )
        pool.append(item)
    blocked = frozenset(
        _norm_category(c)
        for c in (harm_category_codes() if blocked_categories is None else blocked_categories)
    )

    decided: dict[int, Refusal | None] = {}
    to_screen: list[int] = []
    for i, item in enumerate(pool):
        required = item.required_band
        if required is None:
            decided[i] = Refusal(item.id, RefusalReason.untagged)
        elif not band_suits(required, viewer):
            decided[i] = Refusal(item.id, RefusalReason.too_old_for_band, required_band=required)
        elif hits := tuple(
            dict.fromkeys(c for c in item.categories if _norm_category(c) in blocked)
        ):
            decided[i] = Refusal(item.id, RefusalReason.platform_category, categories=hits)
        elif item.text:
            to_screen.append(i)
        else:
            decided[i] = None

    # One batch through the Detector for the items still in (the model scores them together).
    verdicts = detector.check_many([pool[i].text or "" for i in to_screen], scene=scene)
    refused_actions = {Action.BLOCK, Action.REVIEW} if refuse_review else {Action.BLOCK}
    for i, verdict in zip(to_screen, verdicts, strict=True):
        if verdict.verdict in refused_actions:
            cats = tuple(c.code for c in verdict.categories)
            decided[i] = Refusal(pool[i].id, RefusalReason.harmful, categories=cats)
        else:
            decided[i] = None

    allowed = tuple(item for i, item in enumerate(pool) if decided[i] is None)
    refused = tuple(r for i in range(len(pool)) if (r := decided[i]) is not None)
    return FilterResult(band=viewer, allowed=allowed, refused=refused)


# -- function switches ----------------------------------------------------------------------


class Feature(StrEnum):
    tipping = "tipping"
    top_up = "top_up"
    withdrawal = "withdrawal"
    live_streaming = "live_streaming"
    private_messages = "private_messages"
    comments = "comments"
    search = "search"
    recommendations_personalised = "recommendations_personalised"
    purchase = "purchase"

    @property
    def label_zh(self) -> str:
        return _load().feature_names[self]


@dataclass(frozen=True, slots=True)
class FeatureRule:
    feature: Feature
    off: frozenset[AgeBand]
    source: str
    note: str = ""

    def allowed(self, band: AgeBand) -> bool:
        return band not in self.off


@dataclass(frozen=True, slots=True)
class FeatureExample:
    band: AgeBand
    feature: Feature
    allowed: bool


@dataclass(frozen=True)
class YouthRuleSet:
    name: str
    name_zh: str
    issuer: str
    effective: date
    source: str
    rules: Mapping[Feature, FeatureRule]
    examples: tuple[FeatureExample, ...] = ()

    def features(self, band: AgeBand) -> dict[str, bool]:
        return {str(f): self.rules[f].allowed(band) for f in Feature}


@dataclass(frozen=True)
class FilterExample:
    name: str
    band: AgeBand
    items: tuple[ContentItem, ...]
    expect: Mapping[str, str]


@dataclass(frozen=True)
class _Data:
    feature_names: Mapping[Feature, str]
    rule_sets: Mapping[str, YouthRuleSet]
    filter_examples: tuple[FilterExample, ...] = field(default=())


def _bands(raw: Any, where: str) -> frozenset[AgeBand]:
    try:
        return frozenset(AgeBand(b) for b in raw)
    except (TypeError, ValueError):
        raise YouthModeDataError(f"{where}: bad band list {raw!r}") from None


def load_youth_mode(text: str | None = None) -> _Data:
    """Parse and check data/youth_mode.toml (or `text`); no caching, see `rule_sets()`."""
    raw = tomllib.loads(
        text if text is not None else read_data("qinglang.guard", "youth_mode.toml")
    )
    names = {Feature(k): v["name_zh"] for k, v in raw.get("feature", {}).items()}
    if set(names) != set(Feature):
        raise YouthModeDataError("feature table must name every Feature exactly once")
    sets: dict[str, YouthRuleSet] = {}
    for name, body in raw.get("rule_set", {}).items():
        rules: dict[Feature, FeatureRule] = {}
        for row in body.get("feature", ()):
            where = f"rule_set {name}, feature {row.get('feature')!r}"
            try:
                feature = Feature(row["feature"])
            except (KeyError, ValueError):
                raise YouthModeDataError(f"{where}: unknown feature") from None
            if feature in rules:
                raise YouthModeDataError(f"{where}: listed twice")
            off = _bands(row.get("off", ()), where)
            if AgeBand.adult in off:
                raise YouthModeDataError(f"{where}: youth mode never applies to adults")
            # Closed towards younger bands: a younger viewer never gets more.
            for band in off:
                younger = {b for b in _MINOR_BANDS if _BAND_ORDER[b] < _BAND_ORDER[band]}
                if not younger <= off:
                    raise YouthModeDataError(f"{where}: off for {band} but not for younger bands")
            if not str(row.get("source", "")).strip():
                raise YouthModeDataError(f"{where}: needs a source")
            rules[feature] = FeatureRule(feature, off, row["source"], row.get("note", ""))
        if set(rules) != set(Feature):
            missing = sorted(str(f) for f in set(Feature) - set(rules))
            raise YouthModeDataError(f"rule_set {name}: missing features {missing}")
        examples = tuple(
            FeatureExample(AgeBand(e["band"]), Feature(e["feature"]), bool(e["allowed"]))
            for e in body.get("example", ())
        )
        effective = body["effective"]
        if not isinstance(effective, date):
            raise YouthModeDataError(f"rule_set {name}: effective must be a TOML date")
        sets[name] = YouthRuleSet(
            name=name,
            name_zh=body["name_zh"],
            issuer=body["issuer"],
            effective=effective,
            source=body["source"],
            rules=rules,
            examples=examples,
        )
    filter_examples = tuple(
        FilterExample(
            name=e["name"],
            band=AgeBand(e["band"]),
            items=tuple(ContentItem.from_dict(i) for i in e["items"]),
            expect=dict(e["expect"]),
        )
        for e in raw.get("filter_example", ())
    )
    return _Data(feature_names=names, rule_sets=sets, filter_examples=filter_examples)


@cache
def _load() -> _Data:
    return load_youth_mode()


def rule_sets() -> Mapping[str, YouthRuleSet]:
    """The youth-mode rule sets by name (`video-youth-2019`, `cac-minor-mode-2024`)."""
    return _load().rule_sets


def filter_examples() -> tuple[FilterExample, ...]:
    return _load().filter_examples


def get_rule_set(name: str) -> YouthRuleSet:
    sets = rule_sets()
    if not isinstance(name, str) or name not in sets:
        raise UnknownRuleSetError(
            f"unknown youth-mode rule set {name!r} (known: {', '.join(sets)})",
            f"未知的青少年模式规则：{str(name)[:64]}。",
            "rule_set",
        )
    return sets[name]


def to_feature(value: Feature | str) -> Feature:
    if isinstance(value, Feature):
        return value
    if isinstance(value, str):
        try:
            return Feature(value)
        except ValueError:
            pass
    raise UnknownFeatureError(
        f"unknown feature {value!r} (known: {', '.join(Feature)})",
        f"未知的功能：{str(value)[:64]}。",
        "feature",
    )


def features_for(rule_set: str, band: AgeBand | str) -> dict[str, bool]:
    """Every feature and whether it is on in youth mode under `rule_set` for `band`."""
    return get_rule_set(rule_set).features(to_band(band))


def is_feature_allowed(rule_set: str, band: AgeBand | str, feature: Feature | str) -> bool:
    rs = get_rule_set(rule_set)
    return rs.rules[to_feature(feature)].allowed(to_band(band))


def feature_refusal_zh(feature: Feature | str) -> str:
    """The message for a switched-off feature, e.g. "青少年模式下不能使用打赏功能。"."""
    return f"青少年模式下不能使用{to_feature(feature).label_zh}功能。"


# -- rest reminders and guardian extensions -------------------------------------------------


def _aware(value: Any, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise YouthModeError(f"{name} must be a timezone-aware datetime", "时间格式错误。", name)
    return value


def rest_reminders(
    session_start: datetime, at: datetime, interval_s: int = REST_INTERVAL_S
) -> datetime:
    """The next rest reminder of a session: the first instant start + k·interval (k ≥ 1) ≥ `at`.

    A reminder falling exactly on `at` is due now and is returned; before the session starts
    the first reminder is start + interval.
    """
    start = _aware(session_start, "session_start")
    now = _aware(at, "at")
    if (
        isinstance(interval_s, bool)
        or not isinstance(interval_s, int)
        or not MIN_REST_INTERVAL_S <= interval_s <= MAX_REST_INTERVAL_S
    ):
        raise YouthModeError(
            f"interval_s must be an int from {MIN_REST_INTERVAL_S} to {MAX_REST_INTERVAL_S}",
            "休息提醒间隔必须在1分钟到24小时之间。",
            "interval_s",
        )
    step = timedelta(seconds=interval_s)
    elapsed = now - start
    if elapsed <= step:
        return start + step
    k = -(-elapsed // step)  # ceiling division of timedeltas
    return start + k * step


@dataclass(frozen=True, slots=True)
class ExtensionRequest:
    """A guardian's request to extend a minor's time for `day` (Asia/Shanghai) by `extra_s`.

    Valid from MIN_EXTENSION_S (15 min) to MAX_EXTENSION_S (2 h); several requests on one day
    may not add up to more than MAX_EXTENSION_S (see `total_extension_s`).
    """

    day: date
    extra_s: int

    def __post_init__(self) -> None:
        if not isinstance(self.day, date) or isinstance(self.day, datetime):
            raise ExtensionError("day must be a date", "延长日期格式错误。", "day")
        if isinstance(self.extra_s, bool) or not isinstance(self.extra_s, int):
            raise ExtensionError(
                "extra_s must be a whole number of seconds", "延长时长格式错误。", "extra_s"
            )
        if not MIN_EXTENSION_S <= self.extra_s <= MAX_EXTENSION_S:
            raise ExtensionError(
                f"extension must be {MIN_EXTENSION_S}-{MAX_EXTENSION_S} s, got {self.extra_s}",
                "监护人每次可为今天延长15分钟至2小时。",
                "extra_s",
            )

    @classmethod
    def for_today(cls, extra_s: int, at: datetime) -> ExtensionRequest:
        """A request for the day `at` falls on in Asia/Shanghai."""
        return cls(day=local_day(_aware(at, "at")), extra_s=extra_s)

    def check_today(self, at: datetime) -> None:
        """ExtensionError unless the request is for the day of `at` (no extending other days)."""
        if self.day != local_day(_aware(at, "at")):
            raise ExtensionError(
                f"extension is for {self.day}, not today", "只能为今天延长使用时长。", "day"
            )


def total_extension_s(requests: Iterable[ExtensionRequest], day: date) -> int:
    """Seconds granted for `day` by these requests; ExtensionError if they exceed 2 h in all."""
    total = 0
    for req in requests:
        if req.day == day:
            total += req.extra_s
            if total > MAX_EXTENSION_S:
                raise ExtensionError(
                    f"extensions for {day} add up to more than {MAX_EXTENSION_S} s",
                    "今天的延长时长合计不能超过2小时。",
                    "extra_s",
                )
    return total


__all__ = [
    "MAX_CATEGORIES",
    "MAX_EXTENSION_S",
    "MAX_ITEMS",
    "MAX_TEXT_CHARS",
    "MIN_EXTENSION_S",
    "REST_INTERVAL_S",
    "YOUTH_SCENE",
    "ContentItem",
    "ContentItemError",
    "ExtensionError",
    "ExtensionRequest",
    "Feature",
    "FeatureRule",
    "FilterExample",
    "FilterResult",
    "PoolTooLargeError",
    "Refusal",
    "RefusalReason",
    "UnknownBandError",
    "UnknownFeatureError",
    "UnknownRuleSetError",
    "YouthModeDataError",
    "YouthModeError",
    "YouthRuleSet",
    "band_suits",
    "feature_refusal_zh",
    "features_for",
    "filter_examples",
    "filter_pool",
    "get_rule_set",
    "is_feature_allowed",
    "load_youth_mode",
    "rest_reminders",
    "rule_sets",
    "to_band",
    "to_feature",
    "total_extension_s",
]
