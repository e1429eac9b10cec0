"""Youth mode: content pool filter, function switches, rest reminders, guardian extensions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.detect import Action, Detector
from qinglang.guard.ages import SHANGHAI, AgeBand
from qinglang.guard.youth_mode import (
    MAX_EXTENSION_S,
    MAX_ITEMS,
    MAX_TEXT_CHARS,
    MIN_EXTENSION_S,
    YOUTH_SCENE,
    ContentItem,
    ContentItemError,
    ExtensionError,
    ExtensionRequest,
    Feature,
    PoolTooLargeError,
    RefusalReason,
    UnknownBandError,
    UnknownFeatureError,
    UnknownRuleSetError,
    YouthModeDataError,
    YouthModeError,
    band_suits,
    feature_refusal_zh,
    features_for,
    filter_examples,
    filter_pool,
    is_feature_allowed,
    load_youth_mode,
    rest_reminders,
    rule_sets,
    total_extension_s,
)
from qinglang.package_data import read_data

BANDS = list(AgeBand)
MINOR_BANDS = [b for b in AgeBand if b is not AgeBand.adult]
RULE_SETS = sorted(rule_sets())


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector()


# -- shipped examples -------------------------------------------------------------------------


def test_both_rule_sets_ship() -> None:
    assert {"video-youth-2019", "cac-minor-mode-2024"} <= set(RULE_SETS)
    for name in RULE_SETS:
        rs = rule_sets()[name]
        assert rs.examples, f"{name} ships no examples"
        assert rs.source and rs.issuer and rs.name_zh
        for rule in rs.rules.values():
            assert rule.source.strip()


@pytest.mark.parametrize(
    ("rule_set", "example"),
    [
        pytest.param(name, ex, id=f"{name}:{ex.band}:{ex.feature}")
        for name, rs in rule_sets().items()
        for ex in rs.examples
    ],
)
def test_feature_examples(rule_set: str, example) -> None:
    assert is_feature_allowed(rule_set, example.band, example.feature) is example.allowed
    assert features_for(rule_set, example.band)[str(example.feature)] is example.allowed


@pytest.mark.parametrize("example", filter_examples(), ids=lambda e: e.name)
def test_filter_examples(example, det: Detector) -> None:
    result = filter_pool(example.items, example.band, det)
    got = {item.id: result.outcome(item.id) for item in example.items}
    assert got == example.expect
    for refusal in result.refused:
        assert refusal.message_zh
        if refusal.reason is RefusalReason.harmful:
            assert refusal.categories


def test_filter_examples_cover_every_reason() -> None:
    seen = {v for ex in filter_examples() for v in ex.expect.values()}
    assert seen == {"allowed", *map(str, RefusalReason)}


# -- function switches --------------------------------------------------------------------------


def test_video_youth_2019_switches_off_the_four_money_and_streaming_functions() -> None:
    for band in MINOR_BANDS:
        on = features_for("video-youth-2019", band)
        for f in ("tipping", "top_up", "withdrawal", "live_streaming"):
            assert on[f] is False


def test_cac_2024_never_allows_paying_or_streaming_for_minors() -> None:
    for band in MINOR_BANDS:
        for f in ("tipping", "top_up", "withdrawal", "live_streaming", "purchase"):
            assert not is_feature_allowed("cac-minor-mode-2024", band, f)


@pytest.mark.parametrize("rule_set", RULE_SETS)
def test_adults_are_not_in_youth_mode(rule_set: str) -> None:
    assert all(features_for(rule_set, AgeBand.adult).values())


@pytest.mark.parametrize("rule_set", RULE_SETS)
def test_features_for_lists_every_feature(rule_set: str) -> None:
    assert set(features_for(rule_set, "8_12")) == {str(f) for f in Feature}


def test_band_given_as_string_or_enum() -> None:
    assert features_for("cac-minor-mode-2024", "12_16") == features_for(
        "cac-minor-mode-2024", AgeBand.age_12_16
    )


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: features_for("nppa-2099", "8_12"), UnknownRuleSetError),
        (lambda: features_for("video-youth-2019", "9_10"), UnknownBandError),
        (lambda: is_feature_allowed("video-youth-2019", "8_12", "teleport"), UnknownFeatureError),
        (lambda: is_feature_allowed("video-youth-2019", 12, "search"), UnknownBandError),
        (lambda: is_feature_allowed(None, "8_12", "search"), UnknownRuleSetError),
    ],
)
def test_unknown_names_raise_value_error_with_chinese_message(call, error) -> None:
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert info.value.message_zh


def test_feature_labels_and_refusal_message() -> None:
    assert Feature.tipping.label_zh == "打赏"
    assert feature_refusal_zh("live_streaming") == "青少年模式下不能使用开播功能。"


@given(
    rule_set=st.sampled_from(RULE_SETS),
    younger=st.sampled_from(BANDS),
    older=st.sampled_from(BANDS),
)
def test_younger_band_never_gets_more_features(rule_set: str, younger, older) -> None:
    if not band_suits(younger, older):
        younger, older = older, younger
    young = features_for(rule_set, younger)
    old = features_for(rule_set, older)
    assert all(old[f] for f, on in young.items() if on)


_GOOD_TABLE = read_data("qinglang.guard", "youth_mode.toml")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # off for 12–16 but on for 8–12 would give a younger viewer more
        ('off = ["under_3", "3_8", "8_12"]', 'off = ["under_3", "12_16"]'),
        # adults are never in youth mode
        ('off = ["under_3", "3_8"]', 'off = ["under_3", "3_8", "adult"]'),
        # every entry names a source
        ('source = "2019 青少年防沉迷系统：青少年模式下无法开直播"', 'source = ""'),
    ],
)
def test_loader_rejects_inconsistent_tables(old: str, new: str) -> None:
    assert old in _GOOD_TABLE
    with pytest.raises(YouthModeDataError):
        load_youth_mode(_GOOD_TABLE.replace(old, new, 1))


def test_loader_rejects_a_missing_feature() -> None:
    start = _GOOD_TABLE.index('[[rule_set.cac-minor-mode-2024.feature]]\nfeature = "search"')
    end = _GOOD_TABLE.index("[[rule_set.cac-minor-mode-2024.example]]")
    with pytest.raises(YouthModeDataError, match="missing"):
        load_youth_mode(_GOOD_TABLE[:start] + _GOOD_TABLE[end:])


# -- content pool -------------------------------------------------------------------------------


def test_untagged_is_default_deny_for_every_band(det: Detector) -> None:
    item = ContentItem("x", text="看图识字")
    for band in BANDS:
        result = filter_pool([item], band, det)
        assert result.allowed == ()
        assert result.refused[0].reason is RefusalReason.untagged
        assert result.refused[0].message_zh == "该内容没有适龄标签，青少年模式下默认不展示。"


def test_younger_content_is_allowed_for_older_bands(det: Detector) -> None:
    item = ContentItem("x", text="儿歌三百首", age_band=AgeBand.under_3)
    for band in BANDS:
        assert filter_pool([item], band, det).allowed_ids == ("x",)


def test_too_old_reports_the_item_band(det: Detector) -> None:
    result = filter_pool([ContentItem("x", text="高中化学", min_age=16)], "12_16", det)
    (refusal,) = result.refused
    assert refusal.reason is RefusalReason.too_old_for_band
    assert refusal.required_band is AgeBand.age_16_18
    assert refusal.to_dict() == {
        "id": "x",
        "reason": "too_old_for_band",
        "message_zh": "该内容不适合当前年龄段的用户观看。",
        "required_band": "16_18",
    }


def test_harmful_carries_detector_categories(det: Detector) -> None:
    result = filter_pool([ContentItem("x", text="加我微信私聊见面", min_age=0)], "16_18", det)
    (refusal,) = result.refused
    assert refusal.reason is RefusalReason.harmful
    assert "grooming" in refusal.categories
    assert result.to_dict()["refused"][0]["categories"] == list(refusal.categories)


def test_platform_categories_are_case_insensitive_and_configurable(det: Detector) -> None:
    items = [
        ContentItem("a", text="数学", min_age=8, categories=(" Gambling ",)),
        ContentItem("b", text="数学", min_age=8, categories=("romance",)),
    ]
    default = filter_pool(items, "8_12", det)
    assert default.outcome("a") == "platform_category"
    assert default.refused[0].categories == (" Gambling ",)
    assert default.outcome("b") == "allowed"
    custom = filter_pool(items, "8_12", det, blocked_categories=["ROMANCE"])
    assert custom.outcome("a") == "allowed"
    assert custom.outcome("b") == "platform_category"


def test_order_is_kept_and_an_empty_pool_is_fine(det: Detector) -> None:
    items = [ContentItem(str(i), min_age=i % 19) for i in range(30)]
    result = filter_pool(items, "12_16", det)
    assert result.allowed_ids == tuple(str(i) for i in range(30) if i % 19 < 16)
    assert filter_pool([], "8_12", det).to_dict() == {"band": "8_12", "allowed": [], "refused": []}


def test_item_count_is_capped(det: Detector) -> None:
    items = (ContentItem(str(i), min_age=0) for i in range(MAX_ITEMS + 1))
    with pytest.raises(PoolTooLargeError) as info:
        filter_pool(items, "8_12", det)
    assert "1000" in info.value.message_zh
    assert len(filter_pool([ContentItem("a", min_age=0)] * MAX_ITEMS, "8_12", det).allowed) == (
        MAX_ITEMS
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"id": ""},
        {"id": "x" * 129},
        {"id": 5},
        {"id": "a", "text": "字" * (MAX_TEXT_CHARS + 1)},
        {"id": "a", "text": b"bytes"},
        {"id": "a", "min_age": 19},
        {"id": "a", "min_age": -1},
        {"id": "a", "min_age": True},
        {"id": "a", "min_age": 8.0},
        {"id": "a", "age_band": "teen"},
        {"id": "a", "categories": "game_ad"},
        {"id": "a", "categories": ("",)},
        {"id": "a", "categories": tuple(f"c{i}" for i in range(33))},
    ],
)
def test_bad_items_raise_value_error_with_chinese_message(kwargs) -> None:
    with pytest.raises(ContentItemError) as info:
        ContentItem(**kwargs)
    assert isinstance(info.value, ValueError)
    assert info.value.message_zh


def test_from_dict_refuses_unknown_keys_and_coerces_bands() -> None:
    item = ContentItem.from_dict({"id": "a", "age_band": "8_12", "categories": ["x"]})
    assert item.age_band is AgeBand.age_8_12 and item.categories == ("x",)
    with pytest.raises(ContentItemError):
        ContentItem.from_dict({"id": "a", "rating": "PG"})


def test_filter_rejects_non_items_and_unknown_band(det: Detector) -> None:
    with pytest.raises(ContentItemError):
        filter_pool([{"id": "a"}], "8_12", det)  # type: ignore[list-item]
    with pytest.raises(UnknownBandError):
        filter_pool([], "kids", det)


# Texts mixing harmful words, benign words and noise.
_WORDS = [
    "儿歌",
    "科学",
    "傻逼",
    "赌博",
    "加我微信",
    "私聊",
    "见面",
    "打赏",
    "数学",
    "彩金",
    "！",
    " ",
]
_texts = st.lists(st.sampled_from(_WORDS), max_size=6).map("".join)
_items = st.builds(
    ContentItem,
    id=st.text(alphabet="abcdef0123", min_size=1, max_size=4),
    text=st.none() | _texts,
    min_age=st.none() | st.integers(0, 18),
    age_band=st.none() | st.sampled_from(BANDS),
    categories=st.lists(st.sampled_from(["gambling", "education", "game_ad", "music"]), max_size=2),
)


@settings(max_examples=60)
@given(items=st.lists(_items, max_size=12), band=st.sampled_from(BANDS))
def test_pool_never_holds_older_or_blocked_items(items, band, det: Detector) -> None:
    result = filter_pool(items, band, det)
    assert len(result.allowed) + len(result.refused) == len(items)
    for item in result.allowed:
        assert item.required_band is not None
        assert band_suits(item.required_band, band)
        if item.text:
            assert det.check(item.text, scene=YOUTH_SCENE).verdict is not Action.BLOCK


@settings(max_examples=60)
@given(
    items=st.lists(_items, max_size=12),
    younger=st.sampled_from(BANDS),
    older=st.sampled_from(BANDS),
)
def test_younger_band_never_gets_more_items(items, younger, older, det: Detector) -> None:
    if not band_suits(younger, older):
        younger, older = older, younger
    young = filter_pool(items, younger, det).allowed
    old = filter_pool(items, older, det).allowed
    assert set(map(id, young)) <= set(map(id, old))


# -- rest reminders -----------------------------------------------------------------------------

T0 = datetime(2024, 11, 15, 19, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(-5, 30), (0, 30), (10, 30), (30, 30), (30.5, 60), (59, 60), (61, 90), (600, 600)],
)
def test_rest_reminder_every_half_hour(minutes: float, expected: int) -> None:
    at = T0 + timedelta(minutes=minutes)
    assert rest_reminders(T0, at) == T0 + timedelta(minutes=expected)


def test_rest_reminder_across_time_zones_and_custom_interval() -> None:
    at = (T0 + timedelta(minutes=50)).astimezone(UTC)
    assert rest_reminders(T0, at, interval_s=1200) == T0 + timedelta(minutes=60)


@pytest.mark.parametrize(
    "call",
    [
        lambda: rest_reminders(T0.replace(tzinfo=None), T0),
        lambda: rest_reminders(T0, "2024-11-15T19:00"),
        lambda: rest_reminders(T0, T0, interval_s=0),
        lambda: rest_reminders(T0, T0, interval_s=59),
        lambda: rest_reminders(T0, T0, interval_s=86_401),
        lambda: rest_reminders(T0, T0, interval_s=True),
    ],
)
def test_rest_reminder_bad_input(call) -> None:
    with pytest.raises(YouthModeError) as info:
        call()
    assert info.value.message_zh


@given(
    offset_s=st.integers(-86_400, 10 * 86_400),
    interval_s=st.integers(60, 86_400),
)
def test_rest_reminder_properties(offset_s: int, interval_s: int) -> None:
    at = T0 + timedelta(seconds=offset_s)
    nxt = rest_reminders(T0, at, interval_s)
    step = timedelta(seconds=interval_s)
    k, rem = divmod(nxt - T0, step)
    assert rem == timedelta(0) and k >= 1
    assert nxt >= at
    assert nxt - step < at or k == 1


# -- guardian extensions ------------------------------------------------------------------------


@pytest.mark.parametrize("extra_s", [MIN_EXTENSION_S, 1800, 3600, MAX_EXTENSION_S])
def test_extension_within_bounds(extra_s: int) -> None:
    req = ExtensionRequest.for_today(extra_s, datetime(2024, 11, 15, 16, 30, tzinfo=UTC))
    assert req.day == date(2024, 11, 16)  # 00:30 in Shanghai
    assert req.extra_s == extra_s


@pytest.mark.parametrize("extra_s", [0, 899, MAX_EXTENSION_S + 1, -900, 900.0, True, "900"])
def test_extension_out_of_bounds(extra_s) -> None:
    with pytest.raises(ExtensionError) as info:
        ExtensionRequest(date(2024, 11, 15), extra_s)
    assert isinstance(info.value, ValueError)
    assert info.value.message_zh


def test_extension_only_for_today_and_at_most_two_hours_a_day() -> None:
    day = date(2024, 11, 15)
    req = ExtensionRequest(day, 3600)
    req.check_today(T0)
    with pytest.raises(ExtensionError, match="not today"):
        req.check_today(T0 + timedelta(days=1))
    other = ExtensionRequest(date(2024, 11, 14), MAX_EXTENSION_S)
    assert total_extension_s([req, other, ExtensionRequest(day, 3600)], day) == MAX_EXTENSION_S
    with pytest.raises(ExtensionError) as info:
        total_extension_s([req, ExtensionRequest(day, 3600), ExtensionRequest(day, 900)], day)
    assert info.value.message_zh == "今天的延长时长合计不能超过2小时。"
    with pytest.raises(ExtensionError):
        ExtensionRequest(datetime(2024, 11, 15, tzinfo=SHANGHAI), 900)  # type: ignore[arg-type]
