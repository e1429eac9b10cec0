"""Ledger core: the shared example-driven test of the kinds, field parsing, property tests."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinglang.govern import ledger as core
from qinglang.govern.identifiers import USCC_CHARSET, uscc_check_char
from qinglang.govern.ledger import (
    FIELDS,
    Example,
    LedgerError,
    SubjectKind,
    changes_between,
    isbn13_check_digit,
    normalize_game_approval,
    register,
    registered,
    validate_subject,
)

KINDS = registered()
CASES = [
    pytest.param(cls, ex, id=f"{code}-{i}")
    for code, cls in KINDS.items()
    for i, ex in enumerate(cls.examples)
]
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _site(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "website",
        "name": "示例网",
        "region": "310000",
        "domains": "example.cn",
    } | fields


def _errors(fields: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(LedgerError) as info:
        validate_subject(fields)
    return {e.field: e.code for e in info.value.errors}


# ---------------------------------------------------------------- the shared example test


@pytest.mark.parametrize(("cls", "example"), CASES)
def test_example(cls: type[SubjectKind], example: Example) -> None:
    if example.valid:
        record = validate_subject(example.fields)
        assert record["kind"] == cls.code
        assert set(record) == set(FIELDS)
        for name, expected in (example.normalised or {}).items():
            assert record[name] == expected, name
        # The canonical record is a fixed point: validating it again changes nothing.
        assert validate_subject(record) == record
    else:
        with pytest.raises(LedgerError) as info:
            validate_subject(example.fields)
        assert all(_CJK.search(e.message_zh) for e in info.value.errors)
        if example.field is not None:
            assert example.field in info.value.fields, info.value.errors


@pytest.mark.parametrize("code", sorted(KINDS))
def test_every_kind_has_a_chinese_name_and_both_kinds_of_example(code: str) -> None:
    cls = KINDS[code]
    assert _CJK.search(cls.name)
    assert any(ex.valid for ex in cls.examples)
    assert any(not ex.valid for ex in cls.examples)
    assert all(ex.field for ex in cls.examples if not ex.valid), "say which field fails"
    assert cls.fields() >= core.COMMON_FIELDS
    assert cls.fields() <= set(FIELDS)


def test_the_issue_kinds_are_registered() -> None:
    assert set(KINDS) == {"website", "app", "game", "live_video", "account", "group"}


def test_kind_registration_is_checked() -> None:
    class Duplicate(SubjectKind):
        code = "website"
        name = "重复"
        examples = ()

    with pytest.raises(ValueError, match="registered twice"):
        register(Duplicate)

    class Stray(SubjectKind):
        code = "stray"
        name = "未知字段"
        allowed: ClassVar[frozenset[str]] = frozenset({"colour"})
        examples = ()

    with pytest.raises(ValueError, match="unknown fields"):
        register(Stray)
    assert "stray" not in registered()


def test_every_field_has_a_label_and_a_default_or_is_required() -> None:
    assert set(core.FIELD_LABELS_ZH) == set(FIELDS)
    assert set(core.DEFAULTS) | set(core.ALWAYS_REQUIRED) == set(FIELDS)
    for cls, labels in core.LABELS_ZH.items():
        assert set(labels) == {m.value for m in cls}
        assert all(_CJK.search(label) for label in labels.values())


# ---------------------------------------------------------------- field parsing


def test_all_problems_are_reported_at_once() -> None:
    fields = {
        "kind": "website",
        "name": "",
        "region": "999999",
        "uscc": "91310000MA1FL00010",
        "risk_level": "severe",
        "colour": "red",
    }
    assert _errors(fields) == {
        "name": "required",
        "region": "division_province",
        "uscc": "uscc_check",
        "risk_level": "unknown_value",
        "colour": "unknown_field",
        "domains": "required",
    }


def test_missing_kind_still_checks_the_other_fields() -> None:
    assert _errors({"name": "x", "region": "31"}) == {
        "kind": "required",
        "region": "division_format",
    }


@pytest.mark.parametrize(
    ("value", "code"),
    [("high", "high"), ("HIGH", "high"), ("高", "high"), ("高风险", "high"), ("未评估", "unknown")],
)
def test_enumerations_accept_codes_labels_and_aliases(value: str, code: str) -> None:
    assert validate_subject(_site(risk_level=value))["risk_level"] == code


def test_unknown_enumeration_value_lists_the_choices() -> None:
    with pytest.raises(LedgerError) as info:
        validate_subject(_site(youth_mode="开启"))
    (error,) = info.value.errors
    assert error.code == "unknown_value"
    assert "compliant（已落实）" in error.message_zh


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("是", True),
        ("否", False),
        ("TRUE", True),
        ("0", False),
        (1, True),
        ("", False),
        (None, False),
    ],
)
def test_booleans_from_spreadsheets(value: Any, expected: bool) -> None:
    fields = {"kind": "app", "name": "x", "region": "430100", "education_app": value}
    assert validate_subject(fields)["education_app"] is expected


@pytest.mark.parametrize("value", ["也许", 2, 1.0, "yes!"])
def test_other_booleans_are_refused(value: Any) -> None:
    fields = {"kind": "app", "name": "x", "region": "430100", "education_app": value}
    assert _errors(fields) == {"education_app": "bad_bool"}


def test_app_filings_carry_a_letter_only_on_app_kinds() -> None:
    app = {"kind": "app", "name": "x", "region": "110000", "icp_filing": "京ICP备12345678号-2a"}
    assert validate_subject(app)["icp_filing"] == "京ICP备12345678号-2A"
    game = {**app, "kind": "game", "icp_filing": "京 ICP 备 12345678 号 - 2 X"}
    assert validate_subject(game)["icp_filing"] == "京ICP备12345678号-2X"
    assert _errors(_site(icp_filing="京ICP备12345678号-2A")) == {"icp_filing": "app_filing"}
    assert _errors(_site(icp_filing="京ICP证030173号")) == {"icp_filing": "icp_license"}


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("国新出审[2021]1234号", "国新出审〔2021〕1234号"),
        ("国新出审【2021】1234号", "国新出审〔2021〕1234号"),
        ("国新出审（2021）第1234号", "国新出审〔2021〕1234号"),
        (" 新广出审〔2017〕0321号 ", "新广出审〔2017〕321号"),
        ("新出审字[2010]99号", "新出审字〔2010〕99号"),
        ("isbn 978-7-498-01234-0", "ISBN 9787498012340"),
        ("ISBN:9787498012340", "ISBN 9787498012340"),
    ],
)
def test_game_approval_numbers(raw: str, canonical: str) -> None:
    assert normalize_game_approval(raw) == canonical
    assert normalize_game_approval(canonical) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "国新出审2021 1234号",
        "国新出审[21]1234号",
        "ISBN 978-1-4028-9462-6",
        "ISBN 978749801234",
        "",
    ],
)
def test_bad_game_approval_numbers(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_game_approval(raw)


def test_domains_are_split_deduplicated_and_sorted() -> None:
    record = validate_subject(
        _site(
            domains="WWW.Example.cn；example.cn、例子.中国, www.example.cn\nhttp://m.example.cn/a"
        )
    )
    assert record["domains"] == [
        "example.cn",
        "m.example.cn",
        "www.example.cn",
        "xn--fsqu00a.xn--fiqs8s",
    ]


def test_domain_problems_name_the_domain() -> None:
    with pytest.raises(LedgerError) as info:
        validate_subject(_site(domains=["example.cn", "bad_domain.cn"]))
    (error,) = info.value.errors
    assert error.field == "domains" and "bad_domain.cn" in error.message_zh


def test_too_many_domains() -> None:
    domains = [f"s{i}.example.cn" for i in range(core.MAX_DOMAINS + 1)]
    assert _errors(_site(domains=domains)) == {"domains": "too_many"}
    assert len(validate_subject(_site(domains=domains[:-1]))["domains"]) == core.MAX_DOMAINS


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://live.example.com/u/1", True),
        ("HTTP://1.2.3.4:8080/x", True),
        ("https://例子.中国/", True),
        ("ftp://example.com/", False),
        ("example.com/u/1", False),
        ("https://exa mple.com/", False),
        ("https://example.com:99999/", False),
        ("https://bad_host.example/", False),
    ],
)
def test_platform_urls(url: str, ok: bool) -> None:
    fields = {"kind": "account", "name": "x", "region": "510100", "platform_url": url}
    if ok:
        assert validate_subject(fields)["platform_url"] == url
    else:
        assert _errors(fields) == {"platform_url": "bad_url"}


@pytest.mark.parametrize("bad", ["a\x00b", "a\x07b", "a\ud800b", "a\x7fb"])
def test_names_refuse_control_characters_and_lone_surrogates(bad: str) -> None:
    assert _errors(_site(name=bad)) == {"name": "control_char"}


def test_notes_keep_lines_and_tabs_but_not_other_controls() -> None:
    assert validate_subject(_site(notes=" 第一行\r\n\t第二行 "))["notes"] == "第一行\n\t第二行"
    assert _errors(_site(notes="x\x1by")) == {"notes": "control_char"}


def test_lengths_are_bounded() -> None:
    assert validate_subject(_site(name="网" * core.MAX_NAME))["name"] == "网" * core.MAX_NAME
    assert _errors(_site(name="网" * (core.MAX_NAME + 1))) == {"name": "too_long"}
    assert _errors(_site(notes="x" * (core.MAX_NOTES + 1))) == {"notes": "too_long"}


def test_whitespace_in_names_is_collapsed() -> None:
    assert validate_subject(_site(name="  示例   学习\t网\r\n二 "))["name"] == "示例 学习 网 二"


@pytest.mark.parametrize(
    ("value", "ok"),
    [("12", True), (12, True), ("１２", True), ("0", False), (True, False), (2**31, False)],
)
def test_organisation_ids(value: Any, ok: bool) -> None:
    if ok:
        assert validate_subject(_site(organisation_id=value))["organisation_id"] == 12
    else:
        assert _errors(_site(organisation_id=value)) == {"organisation_id": "bad_id"}


def test_kind_by_code_name_or_alias() -> None:
    for value in ("app", "APP", "应用程序（App）", "应用程序(App)", "小程序"):
        assert validate_subject({"kind": value, "name": "x", "region": "110000"})["kind"] == "app"
    assert core.kind_of("直播").code == "live_video"
    with pytest.raises(LedgerError):
        core.kind_of("论坛")


def test_changing_kind_must_clear_fields_the_new_kind_does_not_allow() -> None:
    site = validate_subject(_site(youth_mode="compliant"))
    assert _errors({**site, "kind": "account", "platform_url": "https://x.cn/u"}) == {
        "domains": "not_applicable",
        "youth_mode": "not_applicable",
    }


def test_changes_between() -> None:
    old = validate_subject(_site())
    new = validate_subject({**old, "risk_level": "high", "domains": ["example.cn", "b.cn"]})
    assert changes_between(old, new) == {
        "risk_level": {"old": "unknown", "new": "high"},
        "domains": {"old": ["example.cn"], "new": ["b.cn", "example.cn"]},
    }
    assert changes_between(new, new) == {}


def test_parse_field_for_filters() -> None:
    assert core.parse_field("youth_mode", "部分落实") == "partial"
    assert core.parse_field("kind", "网站") == "website"
    with pytest.raises(LedgerError):
        core.parse_field("risk_level", "extreme")


# ---------------------------------------------------------------- properties

_VALUES = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.booleans(),
    st.lists(st.text(max_size=20), max_size=4),
    st.sampled_from(["310000", "website", "app", "是", "high", "example.cn", "沪ICP备12345678号"]),
)


@given(st.dictionaries(st.sampled_from([*FIELDS, "extra"]), _VALUES, max_size=12))
def test_validation_never_fails_any_other_way(fields: dict[str, Any]) -> None:
    try:
        record = validate_subject(fields)
    except LedgerError as exc:
        assert exc.errors and all(_CJK.search(e.message_zh) for e in exc.errors)
    else:
        assert validate_subject(record) == record


_USCC_BODY = st.builds(
    lambda authority, division, rest: authority + "1" + division + rest,
    st.sampled_from("9512"),
    st.sampled_from(["310000", "110105", "440300", "430100"]),
    st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9),
)


@given(_USCC_BODY, st.sampled_from(USCC_CHARSET))
def test_a_uscc_is_accepted_exactly_when_its_check_character_fits(body: str, check: str) -> None:
    fields = _site(uscc=(body + check).lower())
    if check == uscc_check_char(body):
        assert validate_subject(fields)["uscc"] == body + check
    else:
        assert _errors(fields) == {"uscc": "uscc_check"}


_BRACKETS = st.sampled_from(
    [("[", "]"), ("〔", "〕"), ("【", "】"), ("(", ")"), ("（", "）"), ("［", "］")]
)


@given(
    st.sampled_from(["国新出审", "新广出审", "新出审字"]),
    st.integers(min_value=1990, max_value=2099),
    st.integers(min_value=1, max_value=99999),
    _BRACKETS,
    st.booleans(),
)
def test_approval_numbers_have_one_canonical_form(
    prefix: str, year: int, number: int, brackets: tuple[str, str], padded: bool
) -> None:
    left, right = brackets
    digits = f"{number:06d}" if padded else str(number)
    raw = f"{prefix}{left}{year}{right}{digits}号"
    assert normalize_game_approval(raw) == f"{prefix}〔{year}〕{number}号"


@given(
    st.text(alphabet="0123456789", min_size=8, max_size=8), st.lists(st.integers(4, 11), max_size=3)
)
def test_isbns_with_any_hyphenation_are_one_number(body: str, cuts: list[int]) -> None:
    digits = "9787" + body
    digits += isbn13_check_digit(digits)
    hyphenated = digits
    for cut in sorted(set(cuts), reverse=True):
        hyphenated = hyphenated[:cut] + "-" + hyphenated[cut:]
    assert normalize_game_approval(f"ISBN {hyphenated}") == f"ISBN {digits}"
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    with pytest.raises(ValueError):
        normalize_game_approval(f"ISBN {wrong}")


_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)


@given(
    st.lists(st.builds(lambda a, b: f"{a}.{b}.cn", _LABEL, _LABEL), min_size=1, max_size=8),
    st.randoms(use_true_random=False),
    st.sampled_from([";", "；", "、", ",", " ", "\n"]),
)
def test_domain_lists_ignore_order_case_and_separator(domains: list[str], rnd, sep: str) -> None:
    shuffled = [d.upper() if rnd.random() < 0.5 else d for d in domains]
    rnd.shuffle(shuffled)
    as_text = validate_subject(_site(domains=sep.join(shuffled)))["domains"]
    assert as_text == validate_subject(_site(domains=domains))["domains"] == sorted(set(domains))
