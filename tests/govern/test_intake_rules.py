"""The pure intake rules: sources, URL normalisation, content hashes, targets, floods."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from qinglang.govern import intake as rules
from qinglang.govern.cases import State
from qinglang.govern.intake import (
    Draft,
    FloodRule,
    IntakeError,
    TargetActivity,
    content_hash,
    normalize_url,
    url_key,
)

# ---------------------------------------------------------------- sources

SOURCE_EXAMPLES = [
    pytest.param(src, ex, id=f"{name}-{i}")
    for name, src in rules.registered_sources().items()
    for i, ex in enumerate(src.examples)
]


def test_the_four_sources_are_registered() -> None:
    assert set(rules.registered_sources()) == {"public_tip", "self_report", "patrol", "handoff"}
    for src in rules.registered_sources().values():
        assert src.name_zh and src.description and src.filers and src.required
        assert any(ex.error is None for ex in src.examples)
        assert any(ex.error is not None for ex in src.examples)


@pytest.mark.parametrize(("src", "example"), SOURCE_EXAMPLES)
def test_source_examples(src: type[rules.IntakeSource], example: rules.SourceExample) -> None:
    roles = None if example.filer == rules.PUBLIC else [example.filer]
    try:
        src.check_filer(roles)
        src.check(example.draft)
    except IntakeError as exc:
        assert exc.code == example.error, exc
        assert exc.message_zh
        return
    assert example.error is None, f"expected {example.error}"


def test_only_the_public_channel_is_open_without_an_account() -> None:
    open_ = [n for n, s in rules.registered_sources().items() if s.may_file(None)]
    assert open_ == ["public_tip"]


def test_a_source_cannot_be_registered_twice() -> None:
    class Again(rules.IntakeSource):
        name = "patrol"

    with pytest.raises(ValueError):
        rules.register_source(Again)


def test_unknown_source() -> None:
    with pytest.raises(IntakeError) as err:
        rules.get_source("rumour")
    assert err.value.code == "unknown_source"


def test_self_reports_have_a_deadline_the_others_not() -> None:
    flagged = {n for n, s in rules.registered_sources().items() if s.has_deadline}
    assert flagged == {"self_report"}


def test_deadline_and_lateness() -> None:
    found = datetime(2020, 11, 30, 10, tzinfo=UTC)
    deadline = rules.report_deadline(found, 24)
    assert deadline == found + timedelta(hours=24)
    assert not rules.is_late(deadline, deadline)
    assert rules.is_late(deadline + timedelta(seconds=1), deadline)
    assert not rules.is_late(found, None)
    with pytest.raises(ValueError):
        rules.report_deadline(datetime(2020, 11, 30), 24)


# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Example.CN:443/a/./b/../c/", "https://example.cn/a/c"),
        ("example.cn", "http://example.cn/"),
        ("www.example.cn/post/1，", "http://www.example.cn/post/1"),
        ("//example.cn/x", "http://example.cn/x"),
        ("http://example.cn:80", "http://example.cn/"),
        ("http://example.cn:8080/", "http://example.cn:8080/"),
        ("http://user:secret@example.cn/x", "http://example.cn/x"),
        ("https://example.cn/a?utm_source=wx&b=2&a=1&spm=x.y", "https://example.cn/a?a=1&b=2"),
        ("https://example.cn/a#comments", "https://example.cn/a"),
        ("https://example.cn/#!/post/1", "https://example.cn/#!/post/1"),
        ("https://example.cn/#/post/1", "https://example.cn/#/post/1"),
        ("http://例子.中国/路径", "http://xn--fsqu00a.xn--fiqs8s/%E8%B7%AF%E5%BE%84"),
        ("http://例子。中国/", "http://xn--fsqu00a.xn--fiqs8s/"),
        ("ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｎ／ａ", "https://example.cn/a"),
        ("http://example.cn/%7euser/%2f%zz", "http://example.cn/~user/%2F%25zz"),
        ("http://example.cn/a b", "http://example.cn/a%20b"),
        ("http://1.2.3.4/x", "http://1.2.3.4/x"),
        ("http://[2001:DB8::1]:8080/", "http://[2001:db8::1]:8080/"),
        (
            "https://mp.weixin.qq.com/s?__biz=Mz&mid=1&idx=1&sn=ab&chksm=zz&scene=21",
            "https://mp.weixin.qq.com/s?__biz=Mz&idx=1&mid=1&sn=ab",
        ),
        ("https://game.example.cn/?scene=3", "https://game.example.cn/?scene=3"),
        (
            "https://www.bilibili.com/video/BV1x?spm_id_from=333.1&vd_source=ab&p=2",
            "https://www.bilibili.com/video/BV1x?p=2",
        ),
    ],
)
def test_normalize_url(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("javascript:alert(1)", "unsupported_url_scheme"),
        ("mailto:a@example.cn", "unsupported_url_scheme"),
        ("ftp://example.cn/a", "unsupported_url_scheme"),
        ("file:///etc/passwd", "unsupported_url_scheme"),
        ("data:text/html,<script>", "unsupported_url_scheme"),
        ("http://localhost/", "bad_url"),
        ("http://", "bad_url"),
        ("", "bad_url"),
        ("   ", "bad_url"),
        ("http://example.cn:99999/", "bad_url"),
        ("http://exa mple.cn/", "bad_url"),
        ("http://%65xample.cn/", "bad_url"),
        ("http://example.cn/" + "a" * 3000, "url_too_long"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(raw: str, code: str) -> None:
    with pytest.raises(IntakeError) as err:
        normalize_url(raw, 2)
    assert err.value.code == code
    assert err.value.pointer == "#/urls/2"
    assert err.value.message_zh.startswith("第 3 个网址")


def test_non_string_url() -> None:
    with pytest.raises(IntakeError):
        normalize_url(42)  # type: ignore[arg-type]


hosts = st.sampled_from(["example.cn", "www.Example.com.cn", "例子.中国", "a-b.example.org"])
segments = st.lists(
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#"), max_size=8
    ),
    max_size=4,
)
params = st.lists(
    st.tuples(st.sampled_from(["a", "b", "id", "utm_source", "spm", "q"]), st.text(max_size=6)),
    max_size=4,
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "hTTps"]))
    host = draw(hosts)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/" + "/".join(draw(segments))
    query = "&".join(f"{k}={v}" for k, v in draw(params))
    frag = draw(st.sampled_from(["", "#top", "#!/p/1", "#/x"]))
    return f"{scheme}://{host}{port}{path}" + (f"?{query}" if query else "") + frag


@given(urls())
def test_normalisation_is_idempotent(raw: str) -> None:
    try:
        once = normalize_url(raw)
    except IntakeError:
        return
    assert normalize_url(once) == once
    assert once.isascii()
    assert "utm_source=" not in once and "spm=" not in once
    assert once.split("://")[0] in ("http", "https")


@given(st.text(max_size=80))
def test_any_text_either_normalises_or_is_refused(raw: str) -> None:
    try:
        once = normalize_url(raw)
    except IntakeError as exc:
        assert exc.message_zh
        return
    assert normalize_url(once) == once


@given(
    hosts, st.lists(st.tuples(st.sampled_from("abcdef"), st.text("xyz", max_size=3)), max_size=5)
)
def test_parameter_order_case_and_tracking_do_not_change_the_key(host: str, pairs) -> None:
    query = "&".join(f"{k}={v}" for k, v in pairs)
    base = normalize_url(f"https://{host}/p?{query}")
    shuffled = "&".join(f"{k}={v}" for k, v in reversed(pairs))
    variant = f"HTTP://{host.upper()}:80/p/?{shuffled}&utm_medium=x#frag"
    assert url_key(normalize_url(variant)) == url_key(base)


def test_http_and_https_share_a_key_but_not_a_url() -> None:
    a, b = normalize_url("http://example.cn/a"), normalize_url("https://example.cn/a")
    assert a != b and url_key(a) == url_key(b)
    assert url_key(normalize_url("https://example.cn/b")) != url_key(b)


def test_url_host() -> None:
    assert rules.url_host("http://example.cn:8080/x?y#z") == "example.cn"
    assert rules.url_host("http://[2001:db8::1]:8080/") == "[2001:db8::1]"
    assert rules.url_host("https://1.2.3.4/") == "1.2.3.4"


# ---------------------------------------------------------------- domains and targets


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("example.cn", "example.cn"),
        ("m.weibo.cn", "weibo.cn"),
        ("a.b.example.com.cn", "example.com.cn"),
        ("www.gov.cn", "www.gov.cn"),
        ("x.sh.cn", "x.sh.cn"),
        ("user.github.io", "user.github.io"),
        ("1.2.3.4", "1.2.3.4"),
        ("[2001:db8::1]", "[2001:db8::1]"),
    ],
)
def test_registrable_domain(host: str, registrable: str) -> None:
    assert rules.registrable_domain(host) == registrable


def test_domain_candidates_longest_first() -> None:
    assert rules.domain_candidates("m.example.com.cn") == [
        "m.example.com.cn",
        "example.com.cn",
        "com.cn",
    ]
    assert rules.domain_candidates("1.2.3.4") == []


def test_target_key_prefers_the_ledger_subject() -> None:
    urls = ("https://m.example.cn/a", "https://other.cn/")
    assert rules.target_key(7, urls) == "subject:7"
    assert rules.target_key(None, urls) == "domain:example.cn"
    assert rules.target_key(None, ()) is None


# ---------------------------------------------------------------- content


def test_content_hash_ignores_punctuation_spaces_case_and_width() -> None:
    a = content_hash("澳门新葡京，首充送100%！加微信 ABC123")
    b = content_hash("澳门新葡京 首充送１００％ 加微信abc123。")
    assert a == b
    assert content_hash("澳门新葡京首充送200%加微信abc123") != a


def test_content_hash_includes_attachments_in_any_order() -> None:
    d1, d2 = "a" * 64, "b" * 64
    assert content_hash("x", [d1, d2]) == content_hash("x", [d2, d1])
    assert content_hash("x", [d1]) != content_hash("x", [d2])
    assert content_hash(None, [d1]) is not None
    assert content_hash("，。 ", []) is None
    assert content_hash(None) is None


def test_only_substantive_content_deduplicates() -> None:
    assert not rules.is_substantive("举报这个网站")
    assert rules.is_substantive("一" * rules.MIN_CONTENT_CHARS)
    assert rules.is_substantive("举报", ["a" * 64])


@given(st.text(max_size=50))
def test_normalised_content_is_a_fixed_point(text: str) -> None:
    once = rules.normalize_content(text)
    assert rules.normalize_content(once) == once


# ---------------------------------------------------------------- floods

RULE = FloodRule(threshold=20, window=timedelta(hours=1))


@pytest.mark.parametrize(
    ("activity", "flags"),
    [
        (TargetActivity(20, (1,) * 20, (1,) * 20), ()),
        (TargetActivity(21, (1,) * 21, (1,) * 21), ("flood",)),
        (TargetActivity(21, (7, 2, 1) + (1,) * 11, (1,) * 21), ("flood",)),
        (TargetActivity(21, (8, 2, 1) + (1,) * 10, (1,) * 21), ("flood", "coordinated")),
        (TargetActivity(21, (21,), (1,) * 21), ("flood", "coordinated")),
        (TargetActivity(30, (1,) * 30, (16, 14)), ("flood", "coordinated")),
        (TargetActivity(30, (1,) * 30, (15, 15)), ("flood",)),
        (TargetActivity(25, (), ()), ("flood",)),
        (TargetActivity(5, (5,), (5,)), ()),
    ],
)
def test_flood_rule(activity: TargetActivity, flags: tuple[str, ...]) -> None:
    assert rules.flood_flags(activity, RULE) == flags


@given(st.integers(1, 200), st.lists(st.integers(1, 40), max_size=30))
def test_coordinated_implies_flood(count: int, per_client: list[int]) -> None:
    assume(sum(per_client) <= count)
    flags = rules.flood_flags(TargetActivity(count, tuple(per_client)), RULE)
    assert ("flood" in flags) == (count > RULE.threshold)
    if "coordinated" in flags:
        assert "flood" in flags


def test_flood_rule_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        FloodRule(threshold=0, window=timedelta(hours=1))
    with pytest.raises(ValueError):
        FloodRule(threshold=5, window=timedelta(0))


# ---------------------------------------------------------------- public status


def test_every_case_state_has_a_public_status() -> None:
    expected = {
        State.lead: "已受理",
        State.opened: "处理中",
        State.assessing: "处理中",
        State.disposing: "处理中",
        State.rectifying: "处理中",
        State.rechecking: "处理中",
        State.closed: "已办结",
        State.dismissed: "不予立案",
        State.transferred: "已移交",
    }
    assert set(expected) == set(State)
    for state, name in expected.items():
        assert rules.public_status(state.value).name_zh == name
    assert rules.public_status(None) is rules.ACCEPTED
    assert rules.shows_result(rules.public_status("closed"))
    assert not rules.shows_result(rules.public_status("rectifying"))


# ---------------------------------------------------------------- attachments

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 8, "image/jpeg"),
        (b"GIF89a" + b"\x00" * 8, "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        ("聊天记录：约出来见面".encode(), "text/plain"),
        (b"MZ\x90\x00\x03\x00", None),
        (b"\xff\xfe\x00bad", None),
    ],
)
def test_sniff_media_type(content: bytes, media_type: str | None) -> None:
    assert rules.sniff_media_type(content) == media_type


def test_decode_attachment_accepts_plain_and_data_url_base64() -> None:
    assert rules.decode_attachment(b64(PNG), None, 1024, 0).media_type == "image/png"
    data_url = "data:image/png;base64," + b64(PNG)
    assert rules.decode_attachment(data_url, None, 1024, 0).content == PNG
    urlsafe = base64.urlsafe_b64encode(PNG).decode().rstrip("=")
    assert rules.decode_attachment(urlsafe, "Image/PNG; q=1", 1024, 0).content == PNG
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 8
    assert rules.decode_attachment(b64(jpeg), "image/jpg", 1024, 0).media_type == "image/jpeg"
    wrapped = "\n".join(b64(PNG)[i : i + 8] for i in range(0, len(b64(PNG)), 8))
    assert rules.decode_attachment(wrapped, "image/png", 1024, 0).content == PNG


@pytest.mark.parametrize(
    ("data", "media_type", "code"),
    [
        ("not base64!!", None, "bad_base64"),
        ("QUJD=QUJD", None, "bad_base64"),
        ("A", None, "bad_base64"),
        ("", None, "empty_attachment"),
        (b64(b"A" * 2000), None, "attachment_too_large"),
        (b64(b"MZ\x90\x00"), None, "unsupported_attachment_type"),
        (b64(PNG), "text/html", "unsupported_attachment_type"),
        (b64(PNG), "image/jpeg", "attachment_type_mismatch"),
    ],
)
def test_decode_attachment_refusals(data: str, media_type: str | None, code: str) -> None:
    with pytest.raises(IntakeError) as err:
        rules.decode_attachment(data, media_type, 1024, 1)
    assert err.value.code == code
    assert err.value.message_zh.startswith("第 2 个附件")
    if code == "attachment_too_large":
        assert err.value.kind == "too_large"


def test_drafts_are_checked_in_order_limits_first() -> None:
    with pytest.raises(IntakeError) as err:
        rules.SelfReport.check(Draft(text="x" * 30_000))
    assert err.value.code == "text_too_long" and err.value.kind == "too_large"
