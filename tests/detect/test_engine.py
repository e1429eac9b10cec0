"""Detector contracts: verdict shape, offsets, disguises, lexicon handling, scenes, bad input."""

from __future__ import annotations

import json
import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinglang.detect import Detector, LexiconError, UnknownSceneError, load_lexicon_file
from qinglang.detect.engine import CHUNK_CHARS, MAX_HITS

# Characters that make terms, noise, numbers, contact cues and line breaks.
_ALPHABET = list("傻逼你妈赌博加我微信私聊vx qq1389 *.\n色情举报打击sb")

# A made-up term in a user lexicon keeps these tests independent of the shipped word lists.
USER_LEXICON = """
category = "abuse"
allow = ["大笨猪头饼干"]

[[term]]
text = "大笨猪头"
weight = 0.9
flags = ["pinyin", "initials", "homophone"]

[[term]]
text = "臭鸡蛋脸"
weight = 0.9
"""


@pytest.fixture(scope="module")
def user_lexicon(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lex") / "mine.toml"
    path.write_text(USER_LEXICON, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def det(user_lexicon: Path) -> Detector:
    return Detector(lexicon_paths=[user_lexicon])


def _abuse_hit(det: Detector, text: str):
    v = det.check(text)
    hits = [h for h in v.hits if h.term == "大笨猪头"]
    return v, hits


def test_verdict_json_contract(det: Detector) -> None:
    text = "你这个大笨猪头"
    out = det.check(text).to_dict()
    assert set(out) == {"verdict", "categories", "hits"}
    assert out["verdict"] == "block"
    assert out["categories"][0]["code"] == "abuse"
    assert 0 < out["categories"][0]["score"] <= 1
    hit = next(h for h in out["hits"] if h["term"] == "大笨猪头")
    assert set(hit) == {"category", "start", "end", "match", "term", "source"}
    assert hit["source"] == "lexicon"
    assert text[hit["start"] : hit["end"]] == hit["match"] == "大笨猪头"
    json.dumps(out, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("你个大*笨*猪*头", "大*笨*猪*头"),
        ("你个大 笨 猪 头", "大 笨 猪 头"),
        ("你个大.笨.猪.头", "大.笨.猪.头"),
        ("你个大\u200b笨猪头", "大\u200b笨猪头"),
        ("你个大大大笨笨猪头", "大大大笨笨猪头"),
        ("你個大笨豬頭", "大笨豬頭"),
        ("你个大＊笨＊猪＊头", "大＊笨＊猪＊头"),
        ("你个大★笨♥猪头", "大★笨♥猪头"),
        ("你个 da ben zhu tou", "da ben zhu tou"),
        ("你个dabenzhutou", "dabenzhutou"),
        ("你个大笨zhu头", "大笨zhu头"),
        ("你个dbzt", "dbzt"),
        ("你个DBZT", "DBZT"),
        ("你个Ｄ Ｂ Ｚ Ｔ", "Ｄ Ｂ Ｚ Ｔ"),
        ("你个达奔朱投", "达奔朱投"),  # homophones (the term opts in)
        ("你个大笨🐷头", "大笨🐷头"),  # emoji stand-in
    ],
)
def test_each_disguise_reports_original_offsets(det: Detector, text: str, match: str) -> None:
    v, hits = _abuse_hit(det, text)
    assert v.verdict != "pass", text
    assert hits, text
    hit = hits[0]
    assert text[hit.start : hit.end] == hit.match == match


def test_homophones_need_opt_in(det: Detector) -> None:
    # 臭鸡蛋脸 does not opt in: a homophone spelling is not matched.
    assert not [h for h in det.check("抽鸡蛋脸").hits if h.term == "臭鸡蛋脸"]
    assert [h for h in det.check("臭鸡蛋脸").hits if h.term == "臭鸡蛋脸"]


@pytest.mark.parametrize("text", ["xdbzt", "dbztx", "usdbzt123abc", "dbztabc"])
def test_initials_need_a_word_boundary(det: Detector, text: str) -> None:
    assert not _abuse_hit(det, text)[1]


def test_full_pinyin_inside_pinyin_run(det: Detector) -> None:
    assert _abuse_hit(det, "nishidabenzhutou")[1]


def test_allow_list_suppresses(det: Detector) -> None:
    assert not _abuse_hit(det, "我买了大笨猪头饼干")[1]


def test_weight_zero_removes_a_term(tmp_path: Path, user_lexicon: Path) -> None:
    off = tmp_path / "off.tsv"
    off.write_text("term\tcategory\tweight\n大笨猪头\tabuse\t0\n", encoding="utf-8")
    d = Detector(lexicon_paths=[user_lexicon, off])
    assert not _abuse_hit(d, "大笨猪头")[1]


def test_tsv_lexicon(tmp_path: Path) -> None:
    path = tmp_path / "mine.tsv"
    path.write_text(
        "# my words\n小坏蛋蛋糕人\tabuse\t0.8\tpinyin,initials\t小坏蛋糕人\n", encoding="utf-8"
    )
    lex = load_lexicon_file(path)
    term = lex.terms[("abuse", "小坏蛋蛋糕人")]
    assert term.flags == {"pinyin", "initials"}
    assert term.variants == ("小坏蛋糕人",)
    d = Detector(lexicon_paths=[path])
    assert d.check("你是小坏蛋糕人").verdict == "block"


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("bad.toml", "[[term]]\ntext = 1\n", "term #1"),
        ("bad.toml", "category = 'nope'\n[[term]]\ntext = '坏词语'\n", "unknown category"),
        ("bad.toml", "[[term\n", "not valid TOML"),
        ("bad.tsv", "坏词语\tabuse\tabc\n", "line 1"),
        ("bad.tsv", "坏词语\tabuse\t0.5\tsparkly\n", "unknown flags"),
        ("bad.csv", "x", "unknown lexicon format"),
    ],
)
def test_lexicon_errors_name_file_and_place(
    tmp_path: Path, name: str, content: str, needle: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError) as err:
        load_lexicon_file(path)
    assert name in str(err.value)
    assert needle in str(err.value)


def test_lexicon_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.tsv"
    path.write_bytes("坏词语\tabuse\t0.5\n".encode("gbk"))
    with pytest.raises(LexiconError, match="not UTF-8"):
        load_lexicon_file(path)


def test_reload_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "live.toml"
    path.write_text("category='abuse'\n", encoding="utf-8")
    d = Detector(lexicon_paths=[path])
    assert not [h for h in d.check("你是个新词坏蛋").hits if h.term == "新词坏蛋"]
    path.write_text("category='abuse'\n[[term]]\ntext='新词坏蛋'\nweight=0.9\n", encoding="utf-8")
    d.reload()
    assert [h for h in d.check("你是个新词坏蛋").hits if h.term == "新词坏蛋"]
    # A broken file keeps the rules in force.
    path.write_text("[[term\n", encoding="utf-8")
    with pytest.raises(LexiconError):
        d.reload()
    assert [h for h in d.check("你是个新词坏蛋").hits if h.term == "新词坏蛋"]


def test_pickle_round_trip(det: Detector) -> None:
    clone = pickle.loads(pickle.dumps(det))
    texts = ["你这个大笨猪头", "今天天气很好", "da ben zhu tou"]
    assert [v.to_dict() for v in clone.check_many(texts)] == [
        v.to_dict() for v in det.check_many(texts)
    ]


def test_thread_safe(det: Detector) -> None:
    texts = [f"第{i}条：你这个大笨猪头" if i % 2 else f"第{i}条：你好" for i in range(400)]
    expected = [v.to_dict() for v in det.check_many(texts)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: det.check(t).to_dict(), texts))
    assert got == expected


def test_scenes(det: Detector) -> None:
    assert set(det.scenes) == {"general", "children", "learning", "live_chat"}
    with pytest.raises(UnknownSceneError, match="unknown scene"):
        det.check("你好", scene="casino")
    with pytest.raises(UnknownSceneError):
        det.check_many(["你好"], scene="")


def test_children_scene_is_strictest(det: Detector) -> None:
    for code in ("abuse", "grooming", "porn_vulgar"):
        general = det.scene("general").limits(code)
        children = det.scene("children").limits(code)
        assert children[0] < general[0] and children[1] < general[1]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\x01\x02\x1b[31m",
        "\ud800\udfff\ud83d",  # lone surrogates
        "大\ud800笨猪头",
        "\u202e大笨猪头\u202c",  # bidi override
        "🐷" * 1000,
    ],
)
def test_bad_input_never_raises(det: Detector, text: str) -> None:
    v = det.check(text)
    json.dumps(v.to_dict(), ensure_ascii=False).encode("utf-8")


def test_type_error_for_non_text(det: Detector) -> None:
    with pytest.raises(TypeError):
        det.check(b"bytes")  # type: ignore[arg-type]


def test_huge_text_is_bounded(det: Detector) -> None:
    text = "大笨猪头" * 840_000  # 10 MB of UTF-8, every character part of a hit
    assert len(text.encode("utf-8")) > 10_000_000
    v = det.check(text)
    assert v.verdict == "block"
    assert len(v.hits) <= MAX_HITS
    assert v.truncated


def test_term_across_chunk_boundary(det: Detector) -> None:
    pad = "好" * (CHUNK_CHARS - 2)
    text = pad + "大笨猪头" + "好" * 100
    hits = _abuse_hit(det, text)[1]
    assert hits
    assert text[hits[0].start : hits[0].end] == "大笨猪头"


def test_long_text_offsets_in_second_chunk(det: Detector) -> None:
    text = "好" * (CHUNK_CHARS * 3 + 17) + "大 笨 猪 头"
    hits = _abuse_hit(det, text)[1]
    assert hits
    assert text[hits[0].start : hits[0].end] == "大 笨 猪 头"


def test_check_many_equals_check_on_the_corpora(detector: Detector) -> None:
    data = Path(__file__).resolve().parents[1] / "data"
    texts = [
        json.loads(line)["text"]
        for name in ("benign.jsonl", "harmful.jsonl")
        for line in (data / name).read_text(encoding="utf-8").splitlines()
    ]
    texts += ["", "多行\n文本 傻逼", "加我vx abc12345", "x" * 9000, "13812345678"]
    for scene in detector.scenes:
        assert [v.to_dict(True) for v in detector.check_many(texts, scene)] == [
            detector.check(t, scene).to_dict(True) for t in texts
        ]


@given(st.lists(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=20), max_size=30))
def test_check_many_equals_check(texts: list[str]) -> None:
    d = Detector.default()
    assert [v.to_dict(True) for v in d.check_many(texts)] == [
        d.check(t).to_dict(True) for t in texts
    ]


@given(
    st.text(alphabet=st.sampled_from([*_ALPHABET, "煞", "沙", "笔", "比", "尼", "玛"]), max_size=30)
)
def test_homophone_gate_is_a_necessary_condition(text: str) -> None:
    from qinglang.detect.normalize import normalize_text, pinyin_view

    rules = Detector.default()._rules
    view = normalize_text(text)
    if rules.homophones is not None and rules.homophones.matches(pinyin_view(view)):
        assert rules.homophone_gate is not None
        assert rules.homophone_gate.search(view)
