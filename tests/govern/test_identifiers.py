"""Identifier validators: fixed examples, Chinese messages, and check-character round trips.

All codes here are fictional; their check characters were computed with the algorithms.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.govern.identifiers import (
    NATIONAL_DIVISION,
    USCC_AUTHORITIES,
    USCC_CHARSET,
    USCC_WEIGHTS,
    DivisionLevel,
    IdentifierError,
    division_covers,
    division_level,
    division_parent,
    domain_of_url,
    domain_to_unicode,
    message_zh,
    normalize_division,
    normalize_domain,
    normalize_icp_filing,
    normalize_icp_license,
    normalize_psb_filing,
    normalize_uscc,
    parse_icp_filing,
    provinces,
    psb_filing_division,
    uscc_check_char,
)

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _rejects(func, value: str) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        func(value)
    exc = info.value
    assert isinstance(exc, ValueError)
    assert exc.args[0]  # the English message for logs
    # Every rejection has a specific Chinese sentence, not the generic fallback.
    assert _CJK.search(exc.message_zh), exc.message_zh
    assert exc.message_zh != message_zh(IdentifierError(exc.kind, "no-such-reason", "")), exc
    assert message_zh(exc) == exc.message_zh
    return exc


def test_message_zh_of_a_foreign_error_is_generic() -> None:
    assert message_zh(ValueError("x")) == "输入的标识无效。"


# ---------------------------------------------------------------- USCC

USCC_VALID = [
    "91310104MA1FL0007B",  # company, Shanghai Xuhui
    "91110105MA0000AB03",  # company, Beijing Chaoyang
    "52440300MJL000016J",  # private non-enterprise unit, Shenzhen
    "12100000400000130M",  # public institution of a central organ (division 100000)
    "92410105MA4ABCDE30",  # individual business, Zhengzhou
    "N2330106MA2B000198",  # agricultural registration, Hangzhou
]


def test_weights_are_powers_of_three_mod_31() -> None:
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(USCC_CHARSET) == 31 and not set("IOZSV") & set(USCC_CHARSET)


@pytest.mark.parametrize("code", USCC_VALID)
def test_uscc_valid(code: str) -> None:
    assert normalize_uscc(code) == code
    assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91310104ma1fl0007b", "91310104MA1FL0007B"),
        (" 9131 0104 MA1F L000 7B ", "91310104MA1FL0007B"),
        ("９１３１０１０４ＭＡ１ＦＬ０００７Ｂ", "91310104MA1FL0007B"),  # full-width
    ],
)
def test_uscc_normalises(raw: str, expected: str) -> None:
    assert normalize_uscc(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("9131010", "length"),
        ("91310104MA1FL0007B1", "length"),
        ("91310104MA1FL0OO7B", "charset"),  # letter O is not in the charset
        ("B1310104MA1FL0007B", "authority"),
        ("91990104MA1FL0007B", "division"),  # no province 99
        ("9131A104MA1FL0007B", "division"),
        ("91310104MA1FL0007C", "check"),
    ],
)
def test_uscc_invalid(raw: str, reason: str) -> None:
    assert _rejects(normalize_uscc, raw).reason == reason


def test_uscc_check_char_refuses_bad_bodies() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("123")
    with pytest.raises(ValueError):
        uscc_check_char("9131010400000000I")


_PROVINCE_CODES = sorted(provinces())


@st.composite
def division_codes(draw, national: bool = True) -> str:
    level = draw(
        st.sampled_from(["province", "city", "county", *(["national"] if national else [])])
    )
    if level == "national":
        return NATIONAL_DIVISION
    prov = draw(st.sampled_from(_PROVINCE_CODES))
    if level == "province":
        return prov + "0000"
    city = draw(st.integers(1, 99))
    county = 0 if level == "city" else draw(st.integers(1, 99))
    return f"{prov}{city:02d}{county:02d}"


@st.composite
def uscc_codes(draw) -> str:
    authority = draw(st.sampled_from(sorted(USCC_AUTHORITIES)))
    rest = st.sampled_from(USCC_CHARSET)
    kind = draw(rest)
    org = "".join(draw(st.lists(rest, min_size=9, max_size=9)))
    body = authority + kind + draw(division_codes()) + org
    return body + uscc_check_char(body)


@settings(deadline=None)
@given(uscc_codes())
def test_uscc_round_trip(code: str) -> None:
    assert normalize_uscc(code) == code
    assert normalize_uscc(code.lower()) == code


@settings(deadline=None)
@given(uscc_codes(), st.integers(0, 17), st.sampled_from(USCC_CHARSET))
def test_uscc_single_substitution_is_rejected(code: str, pos: int, ch: str) -> None:
    # 31 is prime and no weight is 0 mod 31, so any one changed character breaks the sum.
    if code[pos] == ch:
        ch = USCC_CHARSET[(USCC_CHARSET.index(ch) + 1) % 31]
    mutated = code[:pos] + ch + code[pos + 1 :]
    with pytest.raises(IdentifierError):
        normalize_uscc(mutated)


# ---------------------------------------------------------------- ICP numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("京ICP备12345678号", "京ICP备12345678号"),
        ("京ICP备12345678号-1", "京ICP备12345678号-1"),
        ("京icp备12345678号-12", "京ICP备12345678号-12"),
        (" 沪 ICP 备 2021000001 号 - 3 ", "沪ICP备2021000001号-3"),
        ("粤ICP备12345678-2号", "粤ICP备12345678号-2"),  # suffix inside 号, as some sites write
        ("蜀ICP备05001234号", "蜀ICP备05001234号"),  # Sichuan files under 蜀
        ("川ICP备05001234号", "川ICP备05001234号"),
        ("浙ＩＣＰ备１２３４５６７８号－１", "浙ICP备12345678号-1"),
    ],
)
def test_icp_filing_valid(raw: str, expected: str) -> None:
    assert normalize_icp_filing(raw) == expected
    assert normalize_icp_filing(expected) == expected


def test_icp_filing_parts() -> None:
    filing = parse_icp_filing("京ICP备12345678号-1")
    assert (filing.province, filing.serial, filing.site) == ("11", "12345678", 1)
    assert filing.main == "京ICP备12345678号"
    assert parse_icp_filing("蜀ICP备05001234号").province == "51"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("京ICP备号", "format"),
        ("京ICP备12345678", "format"),
        ("京ICP备12345678号-", "format"),
        ("ICP备12345678号", "format"),
        ("京ICP备12345678901号", "format"),
        ("京ICP证030173号", "license"),
        ("港ICP备12345678号", "province"),  # no MIIT filings in Hong Kong
        ("X ICP备12345678号", "province"),
        ("京ICP备12345678号-0", "site"),
    ],
)
def test_icp_filing_invalid(raw: str, reason: str) -> None:
    assert _rejects(normalize_icp_filing, raw).reason == reason


def test_icp_license() -> None:
    assert normalize_icp_license(" 京ICP证 030173号") == "京ICP证030173号"
    assert _rejects(normalize_icp_license, "京ICP备12345678号").reason == "format"
    assert _rejects(normalize_icp_license, "台ICP证030173号").reason == "province"


_MAINLAND_ABBRS = sorted(a for p in provinces().values() if p.mainland for a in p.abbrs)


@settings(deadline=None)
@given(
    st.sampled_from(_MAINLAND_ABBRS),
    st.text("0123456789", min_size=6, max_size=10),
    st.none() | st.integers(1, 9999),
)
def test_icp_round_trip(abbr: str, serial: str, site: int | None) -> None:
    text = f"{abbr}ICP备{serial}号" + ("" if site is None else f"-{site}")
    filing = parse_icp_filing(text)
    assert filing.text == text and filing.serial == serial and filing.site == site
    assert provinces()[filing.province].abbrs.count(abbr) == 1


# ---------------------------------------------------------------- 公网安备


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("京公网安备 11010502030143号", "京公网安备 11010502030143号"),
        ("京公网安备11010502030143号", "京公网安备 11010502030143号"),
        ("川公网安备 51010702001234号", "川公网安备 51010702001234号"),
        ("沪公网安备 ３１０１０４０２００１２３４号", "沪公网安备 31010402001234号"),
    ],
)
def test_psb_valid(raw: str, expected: str) -> None:
    assert normalize_psb_filing(raw) == expected


def test_psb_division() -> None:
    assert psb_filing_division("京公网安备 11010502030143号") == "110105"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("京公网安备 1101050203014号", "format"),  # 13 digits
        ("京公网安备 11010502030143", "format"),
        ("京ICP备12345678号", "format"),
        ("港公网安备 81010502030143号", "province"),
        ("京公网安备 31010502030143号", "mismatch"),  # Shanghai digits under 京
        ("京公网安备 11000502030143号", "division"),  # XX00YY is no division
    ],
)
def test_psb_invalid(raw: str, reason: str) -> None:
    assert _rejects(normalize_psb_filing, raw).reason == reason


# ---------------------------------------------------------------- divisions


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("100000", DivisionLevel.national, None),
        ("310000", DivisionLevel.province, "100000"),
        ("310100", DivisionLevel.city, "310000"),
        ("310104", DivisionLevel.county, "310100"),
        ("419001", DivisionLevel.county, "419000"),  # 济源: a county-level city under the province
        ("650000", DivisionLevel.province, "100000"),
    ],
)
def test_division_levels(code: str, level: DivisionLevel, parent: str | None) -> None:
    assert division_level(code) is level
    assert division_parent(code) == parent


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("31000", "format"),
        ("31000a", "format"),
        ("3100000", "format"),
        ("990000", "province"),
        ("000000", "province"),
        ("310001", "structure"),
    ],
)
def test_division_invalid(raw: str, reason: str) -> None:
    assert _rejects(normalize_division, raw).reason == reason


def test_division_normalises_full_width() -> None:
    assert normalize_division(" ３１０１０４ ") == "310104"


def test_division_covers() -> None:
    assert division_covers("100000", "310104")
    assert division_covers("310000", "310104")
    assert division_covers("310100", "310104")
    assert division_covers("310104", "310104")
    assert not division_covers("310104", "310100")
    assert not division_covers("310000", "320000")
    assert not division_covers("310000", "100000")
    assert not division_covers("310100", "310200")


@settings(deadline=None)
@given(division_codes())
def test_every_ancestor_covers(code: str) -> None:
    assert normalize_division(code) == code
    node: str | None = code
    while node is not None:
        assert division_covers(node, code)
        node = division_parent(node)
    if code != NATIONAL_DIVISION:
        assert not division_covers(code, NATIONAL_DIVISION)


def test_province_table() -> None:
    table = provinces()
    assert len(table) == 34
    assert table["11"].abbr == "京" and table["51"].abbrs == ("川", "蜀")
    assert {c for c, p in table.items() if not p.mainland} == {"71", "81", "82"}


# ---------------------------------------------------------------- domains


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.cn", "example.cn"),
        ("WWW.Example.COM.", "www.example.com"),
        ("  www.example.com.cn  ", "www.example.com.cn"),
        ("ＷＷＷ．ｅｘａｍｐｌｅ．ｃｎ", "www.example.cn"),
        ("例子.中国", "xn--fsqu00a.xn--fiqs8s"),
        ("例子。中国", "xn--fsqu00a.xn--fiqs8s"),
        ("XN--FSQU00A.xn--fiqs8s", "xn--fsqu00a.xn--fiqs8s"),
        ("a-b.c0.example", "a-b.c0.example"),
    ],
)
def test_domain_valid(raw: str, expected: str) -> None:
    assert normalize_domain(raw) == expected
    assert normalize_domain(expected) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("https://example.cn", "not_bare"),
        ("example.cn/path", "not_bare"),
        ("example.cn:8080", "not_bare"),
        ("user@example.cn", "not_bare"),
        ("exa mple.cn", "not_bare"),
        ("localhost", "single_label"),
        ("example..cn", "label"),
        (".example.cn", "label"),
        ("-example.cn", "label"),
        ("example-.cn", "label"),
        ("ex_ample.cn", "label"),
        ("ab--cd.cn", "label"),
        ("a" * 64 + ".cn", "label"),
        ("xn--zz.cn", "idna"),
        ("192.168.1.1", "numeric_tld"),
        (".".join(["a" * 60] * 5), "length"),
    ],
)
def test_domain_invalid(raw: str, reason: str) -> None:
    assert _rejects(normalize_domain, raw).reason == reason


def test_domain_unicode_and_url() -> None:
    assert domain_to_unicode("xn--fsqu00a.xn--fiqs8s") == "例子.中国"
    assert domain_of_url("https://WWW.例子.中国:8080/a?b=1#c") == "www.xn--fsqu00a.xn--fiqs8s"
    assert domain_of_url("www.example.cn/path") == "www.example.cn"
    assert domain_of_url("http://user:pw@Example.CN/") == "example.cn"
    assert _rejects(domain_of_url, "http:///path").reason == "no_host"


_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True).filter(
    lambda s: s[2:4] != "--"
)


@settings(deadline=None)
@given(st.lists(_LABEL, min_size=1, max_size=4), st.from_regex(r"[a-z]{2,6}", fullmatch=True))
def test_domain_ascii_round_trip(labels: list[str], tld: str) -> None:
    domain = ".".join([*labels, tld])
    assert normalize_domain(domain) == domain
    assert normalize_domain(domain.upper() + ".") == domain
    assert domain_of_url(f"https://{domain}/x") == domain


@settings(deadline=None)
@given(st.text("例子测试中文网站青少年清朗", min_size=1, max_size=8))
def test_domain_unicode_round_trip(label: str) -> None:
    domain = normalize_domain(f"{label}.中国")
    assert domain.isascii() and domain.endswith(".xn--fiqs8s")
    assert domain_to_unicode(domain) == f"{label}.中国"
    assert normalize_domain(domain_to_unicode(domain)) == domain
