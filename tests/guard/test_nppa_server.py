"""NppaServer (pure handler over the in-memory state): every reachable error code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest

from qinglang.guard.nppa import crypto
from qinglang.guard.nppa.protocol import (
    CHECK_PATH,
    LOGINOUT_PATH,
    QUERY_PATH,
    ErrorCode,
    Event,
    parse_collections,
)
from qinglang.guard.nppa.server import AuthRecord, NppaServer, Partner
from qinglang.guard.nppa.state_memory import MemoryNppaState
from qinglang.guard.pi import birth_of_pi

T0 = 1_600_000_000.0  # 2020-09-13 12:26:40 UTC
P = Partner(app_id="app-1", biz_id="biz-1", secret_key="2836e95fcd10e04b0069bb1ee659955b")
OFF = Partner(app_id="app-off", biz_id="biz-2", secret_key="0" * 32, enabled=False)
ID_ADULT = "110101199003071233"
ID_CHILD = "110101201001010015"


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state() -> MemoryNppaState:
    return MemoryNppaState([P, OFF])


@pytest.fixture
def server(state: MemoryNppaState, clock: Clock) -> NppaServer:
    return NppaServer(state, clock=clock, id_key=b"test-id-key", qps=1000)


def call(
    server: NppaServer,
    path: str,
    payload: Mapping[str, Any] | None = None,
    *,
    query: Mapping[str, str] | None = None,
    method: str | None = None,
    partner: Partner = P,
    ts: float | None = None,
    body: str | None = None,
    headers: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """Sign and send one request as a game would; returns the document (HTTP 200 asserted)."""
    if body is None:
        body = crypto.encrypt_body(partner.secret_key, payload) if payload is not None else ""
    query = dict(query or {})
    stamp = str(int((server.clock() if ts is None else ts) * 1000))
    params = {"appId": partner.app_id, "bizId": partner.biz_id, "timestamps": stamp}
    h: dict[str, str | None] = {
        **params,
        "sign": crypto.sign(partner.secret_key, {**params, **query}, body),
        "Content-Type": "application/json; charset=utf-8",
    }
    h.update(headers or {})
    sent = {k: v for k, v in h.items() if v is not None}
    method = method or ("GET" if path == QUERY_PATH else "POST")
    status, doc = server.handle(method, path, sent, query, body.encode())
    assert status == 200
    json.dumps(doc)  # always serialisable
    return doc


def check(server: NppaServer, ai: str = "acct-1", id_num: str = ID_ADULT, **kw: Any) -> dict:
    return call(server, CHECK_PATH, {"ai": ai, "name": "张三", "idNum": id_num}, **kw)


def pi_of(server: NppaServer, ai: str = "acct-1", id_num: str = ID_ADULT) -> str:
    doc = check(server, ai, id_num)
    assert doc["errcode"] == 0, doc
    return doc["data"]["result"]["pi"]


def loginout(server: NppaServer, items: list[dict[str, Any]], **kw: Any) -> dict:
    return call(server, LOGINOUT_PATH, {"collections": items}, **kw)


def item(no: int, **fields: Any) -> dict[str, Any]:
    base = {"no": no, "si": f"s{no}", "bt": 1, "ot": int(T0) - 10, "ct": 2, "di": "device-1"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def codes(doc: dict) -> dict[Any, int]:
    return {r["no"]: r["errcode"] for r in doc["data"]["results"]}


# ---------------------------------------------------------------- error codes


def test_error_codes_carry_wire_text_and_chinese() -> None:
    assert ErrorCode(1007).errmsg == "SYS REQ EXPIRE ERROR"
    assert ErrorCode(1007).message_zh == "接口请求过期"
    assert ErrorCode(2004).message_zh == "编码已经被占用"
    assert ErrorCode(3005).message_zh == "行为发生时间错误"
    assert ErrorCode(2003).errmsg == "BUS AUTH CODE NO AUTH RECODE"
    assert ErrorCode.OK.errmsg == "OK"
    assert all(code.message_zh for code in ErrorCode)


# ---------------------------------------------------------------- check and query


def test_check_succeeds_with_a_pi_carrying_the_birth_date(server, state) -> None:
    doc = check(server)
    assert doc["errcode"] == 0 and doc["errmsg"] == "OK"
    result = doc["data"]["result"]
    assert result["status"] == 0
    assert len(result["pi"]) == 38
    assert birth_of_pi(result["pi"]).isoformat() == "1990-03-07"
    stored = state.auth[("app-1", "acct-1")]
    assert ID_ADULT not in repr(stored) and "张三" not in repr(stored)


def test_check_is_idempotent_for_the_same_person(server, clock) -> None:
    first = check(server)
    clock.t += 1
    assert check(server) == first
    assert check(server, id_num=ID_ADULT.lower()) == first


def test_same_ai_with_another_person_is_2004(server) -> None:
    check(server)
    assert check(server, id_num=ID_CHILD)["errcode"] == 2004
    assert check(server, id_num=ID_CHILD)["errmsg"] == "BUS AUTH CODE ALREADY IN USE"


def test_same_person_under_two_ais_gets_one_pi(server) -> None:
    assert pi_of(server, "a") == pi_of(server, "b")
    assert pi_of(server, "c", ID_CHILD) != pi_of(server, "a")


@pytest.mark.parametrize(
    "id_num", ["371321199012310912", "12345", "110101299001010012", "99999919900101001X"]
)
def test_illegal_id_number_is_2001(server, id_num: str) -> None:
    assert check(server, id_num=id_num)["errcode"] == 2001


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "张三", "idNum": ID_ADULT},
        {"ai": "", "name": "张三", "idNum": ID_ADULT},
        {"ai": "x" * 33, "name": "张三", "idNum": ID_ADULT},
        {"ai": "a", "name": "", "idNum": ID_ADULT},
        {"ai": "a", "name": "张三"},
        {"ai": "a", "name": "张三", "idNum": 110101199003071233},
        ["not", "an", "object"],
    ],
)
def test_bad_check_fields_are_1012(server, payload) -> None:
    assert call(server, CHECK_PATH, payload)["errcode"] == 1012


def test_undecryptable_or_non_json_bodies_are_1012(server) -> None:
    assert call(server, CHECK_PATH, body="")["errcode"] == 1012
    assert call(server, CHECK_PATH, body="not json")["errcode"] == 1012
    assert call(server, CHECK_PATH, body='{"data":"AAAA"}')["errcode"] == 1012
    other = crypto.encrypt_body("1" * 32, {"ai": "a", "name": "n", "idNum": ID_ADULT})
    assert call(server, CHECK_PATH, body=other)["errcode"] == 1012
    not_json = json.dumps({"data": crypto.encrypt(P.secret_key, "{oops")})
    assert call(server, CHECK_PATH, body=not_json)["errcode"] == 1012


def test_auth_limit_is_2002(state, clock) -> None:
    server = NppaServer(state, clock=clock, id_key=b"k", qps=1000, auth_limit=1)
    assert check(server, "a")["errcode"] == 0
    assert check(server, "a")["errcode"] == 0  # a repeat is not a new record
    assert check(server, "b")["errcode"] == 2002


def test_query(server) -> None:
    pi = pi_of(server)
    doc = call(server, QUERY_PATH, query={"ai": "acct-1"})
    assert doc == {"errcode": 0, "errmsg": "OK", "data": {"result": {"status": 0, "pi": pi}}}
    assert call(server, QUERY_PATH, query={"ai": "nobody"})["errcode"] == 2003
    assert call(server, QUERY_PATH, query={})["errcode"] == 1012
    assert call(server, QUERY_PATH, query={"ai": "x" * 33})["errcode"] == 1012


def test_records_are_per_partner(state, server) -> None:
    other = Partner(app_id="app-2", biz_id="biz-2", secret_key="2" * 32)
    state.add_partner(other)
    check(server)
    assert call(server, QUERY_PATH, query={"ai": "acct-1"}, partner=other)["errcode"] == 2003
    assert check(server, id_num=ID_CHILD, partner=other)["errcode"] == 0


def test_stored_in_progress_and_failed_results_are_answered(state, server) -> None:
    state.auth[("app-1", "slow")] = AuthRecord("slow", "h", 1, None)
    state.auth[("app-1", "bad")] = AuthRecord("bad", "h", 2, None)
    slow = call(server, QUERY_PATH, query={"ai": "slow"})
    assert slow["data"] == {"result": {"status": 1}}
    assert call(server, QUERY_PATH, query={"ai": "bad"})["data"] == {"result": {"status": 2}}


# ---------------------------------------------------------------- system codes


def test_unknown_path_is_1002_and_wrong_method_1003(server) -> None:
    assert call(server, "/idcard/authentication/nothing", {})["errcode"] == 1002
    assert call(server, "/", {})["errcode"] == 1002
    assert call(server, CHECK_PATH, {}, method="GET")["errcode"] == 1003
    assert call(server, QUERY_PATH, query={"ai": "a"}, method="POST")["errcode"] == 1003
    assert call(server, LOGINOUT_PATH + "/", {"collections": [item(1)]})["errcode"] == 0


@pytest.mark.parametrize("header", ["appId", "bizId", "timestamps", "sign"])
def test_missing_header_is_1004(server, header: str) -> None:
    assert check(server, headers={header: None})["errcode"] == 1004
    assert check(server, headers={header: ""})["errcode"] == 1004


def test_header_names_are_case_insensitive(server) -> None:
    stamp = str(int(T0 * 1000))
    body = crypto.encrypt_body(P.secret_key, {"ai": "a", "name": "张三", "idNum": ID_ADULT})
    params = {"appId": P.app_id, "bizId": P.biz_id, "timestamps": stamp}
    sign = crypto.sign(P.secret_key, params, body)
    headers = {"appid": P.app_id, "bizid": P.biz_id, "timestamps": stamp, "sign": sign}
    assert server.handle("post", CHECK_PATH, headers, {}, body)[1]["errcode"] == 0


@pytest.mark.parametrize("offset", [-5.001, 5.001, -3600, 3600])
def test_timestamps_outside_the_window_are_1007(server, offset: float) -> None:
    assert check(server, ts=T0 + offset)["errcode"] == 1007


@pytest.mark.parametrize("offset", [-4.9, 0, 4.9])
def test_timestamps_inside_the_window_pass(server, offset: float) -> None:
    assert check(server, ts=T0 + offset)["errcode"] == 0


def test_window_is_a_parameter(state, clock) -> None:
    server = NppaServer(state, clock=clock, id_key=b"k", window_s=60)
    assert check(server, ts=T0 - 59)["errcode"] == 0
    assert check(server, ts=T0 - 61)["errcode"] == 1007


def test_non_numeric_timestamps_are_1007(server) -> None:
    assert check(server, headers={"timestamps": "yesterday"})["errcode"] == 1007


def test_replayed_request_is_1007(server, clock) -> None:
    stamp = str(int(T0 * 1000))
    body = crypto.encrypt_body(P.secret_key, {"ai": "a", "name": "张三", "idNum": ID_ADULT})
    params = {"appId": P.app_id, "bizId": P.biz_id, "timestamps": stamp}
    headers = {**params, "sign": crypto.sign(P.secret_key, params, body)}
    assert server.handle("POST", CHECK_PATH, headers, {}, body)[1]["errcode"] == 0
    clock.t += 1
    assert server.handle("POST", CHECK_PATH, headers, {}, body)[1]["errcode"] == 1007
    # The same content freshly signed is not a replay.
    assert check(server, "a")["errcode"] == 0


def test_replay_cache_is_pruned(server, clock) -> None:
    for _ in range(20):
        check(server, "a")
        clock.t += 1
    assert len(server._seen) <= 6


def test_unknown_partner_is_1008(server) -> None:
    stranger = Partner(app_id="who", biz_id="biz-1", secret_key=P.secret_key)
    assert check(server, partner=stranger)["errcode"] == 1008


def test_disabled_partner_is_1009(server) -> None:
    assert check(server, partner=OFF)["errcode"] == 1009


def test_wrong_biz_id_is_1010(server) -> None:
    wrong = Partner(app_id=P.app_id, biz_id="biz-other", secret_key=P.secret_key)
    assert check(server, partner=wrong)["errcode"] == 1010


def test_bad_sign_is_1011(server) -> None:
    assert check(server, headers={"sign": "0" * 64})["errcode"] == 1011
    forged = Partner(app_id=P.app_id, biz_id=P.biz_id, secret_key="f" * 32)
    assert check(server, partner=forged)["errcode"] == 1011


def test_query_parameters_are_signed(server) -> None:
    pi_of(server)
    stamp = str(int(T0 * 1000))
    params = {"appId": P.app_id, "bizId": P.biz_id, "timestamps": stamp}
    signed_for_a = crypto.sign(P.secret_key, {**params, "ai": "acct-1"}, "")
    headers = {**params, "sign": signed_for_a}
    doc = server.handle("GET", QUERY_PATH, headers, {"ai": "acct-2"}, b"")[1]
    assert doc["errcode"] == 1011


def test_over_qps_is_1006_and_the_bucket_refills(state, clock) -> None:
    server = NppaServer(state, clock=clock, id_key=b"k", qps=10)
    answers = [check(server, "a")["errcode"] for _ in range(11)]
    assert answers == [0] * 10 + [1006]
    assert check(server, "a", partner=Partner("app-2", "b", "2" * 32))["errcode"] == 1008
    clock.t += 0.11  # one token back (0.1 s is a hair short in float at 1.6e9)
    assert check(server, "a")["errcode"] == 0
    assert check(server, "a")["errcode"] == 1006
    clock.t += 1
    assert [check(server, "a")["errcode"] for _ in range(10)] == [0] * 10


def test_qps_is_per_partner(state, clock) -> None:
    other = Partner(app_id="app-2", biz_id="biz-2", secret_key="2" * 32)
    state.add_partner(other)
    server = NppaServer(state, clock=clock, id_key=b"k", qps=2)
    assert [check(server, "a")["errcode"] for _ in range(3)] == [0, 0, 1006]
    assert check(server, "a", partner=other)["errcode"] == 0


class BrokenState(MemoryNppaState):
    def auth_record(self, app_id: str, ai: str) -> AuthRecord | None:
        raise RuntimeError("database is down")


def test_internal_failure_is_1001(clock, caplog) -> None:
    server = NppaServer(BrokenState([P]), clock=clock, id_key=b"k")
    assert check(server) == {"errcode": 1001, "errmsg": "SYS ERROR"}
    assert ID_ADULT not in caplog.text


def test_an_empty_id_key_is_refused(state) -> None:
    with pytest.raises(ValueError):
        NppaServer(state, id_key=b"")


# ---------------------------------------------------------------- loginout


def test_loginout_guest_and_certified(server, state) -> None:
    pi = pi_of(server)
    doc = loginout(server, [item(1), item(2, ct=0, pi=pi, di=None, bt=0)])
    assert doc == {"errcode": 0, "errmsg": "OK", "data": {"results": []}}
    assert len(state.events) == 2


def test_duplicate_events_are_idempotent(server, state, clock) -> None:
    assert loginout(server, [item(1), item(2)])["errcode"] == 0
    clock.t += 1
    assert loginout(server, [item(1), item(2)])["errcode"] == 0
    assert len(state.events) == 2
    # The same event twice in one batch (different no) is taken once.
    same = [item(1, si="x"), item(2, si="x")]
    assert loginout(server, same)["errcode"] == 0
    assert len(state.events) == 3


def test_out_of_order_events_are_accepted(server, state) -> None:
    items = [item(1, ot=int(T0) - 5, bt=0), item(2, ot=int(T0) - 100, bt=1, si="s1")]
    assert loginout(server, items)["errcode"] == 0
    assert [e.ot for e in state.events.values()] == [int(T0) - 5, int(T0) - 100]


def test_partial_failure_is_3001_listing_failed_items(server, state) -> None:
    pi = pi_of(server)
    items = [
        item(1),
        item(2, bt=2),  # 3007
        item(3, ct=1),  # 3006
        item(4, ot=int(T0) - 181),  # 3005 too old
        item(5, ot=int(T0) + 6),  # 3005 in the future
        item(6, ct=0, pi=None, di=None),  # 3008
        item(7, di=None),  # 3009
        item(8, ct=0, pi="x" * 38),  # 3010 malformed
        item(9, ct=0, pi=pi[:-1] + ("0" if pi[-1] != "0" else "1")),  # 3010 not issued
        item(10, si=""),  # 1012
        item(11, si="s" * 33),  # 1012
        item(12, di="d" * 33),  # 1012
        item(13, ct=0, pi=pi),
        item(14, ot=int(T0) - 180),  # exactly 180 s old: accepted
        item(15, ot=int(T0) + 5),  # within the skew: accepted
        item(16, bt=True),  # 3007: booleans are not numbers
        item(17, ot="1600000000"),  # 3005: ot must be a number
    ]
    doc = loginout(server, items)
    assert doc["errcode"] == 3001
    assert doc["errmsg"] == "BUS COLL PARTIAL ERROR"
    assert codes(doc) == {
        2: 3007,
        3: 3006,
        4: 3005,
        5: 3005,
        6: 3008,
        7: 3009,
        8: 3010,
        9: 3010,
        10: 1012,
        11: 1012,
        12: 1012,
        16: 3007,
        17: 3005,
    }
    assert {r["errmsg"] for r in doc["data"]["results"]} >= {"BUS COLL BEHAVIOR TIME ERROR"}
    assert len(state.events) == 4


def test_max_age_is_a_parameter(state, clock) -> None:
    server = NppaServer(state, clock=clock, id_key=b"k", max_age_s=30)
    assert codes(loginout(server, [item(1, ot=int(T0) - 31)])) == {1: 3005}


def test_unissued_pi_passes_when_not_required(state, clock) -> None:
    server = NppaServer(state, clock=clock, id_key=b"k", require_issued_pi=False)
    pi = "1fffbj" + "0" * 32  # well formed, never issued here
    assert loginout(server, [item(1, ct=0, pi=pi)])["errcode"] == 0


def test_bad_numbers_are_3004(server) -> None:
    items = [item(1), item(1, si="again"), item(0), item(129), item("2"), {"si": "no-no"}]
    doc = loginout(server, items)
    assert doc["errcode"] == 3001
    assert [(r["no"], r["errcode"]) for r in doc["data"]["results"]] == [
        (0, 3004),
        (1, 3004),
        (129, 3004),
        ("2", 3004),
        (None, 3004),
    ]


def test_non_object_item_is_1012(server) -> None:
    doc = loginout(server, [item(1), "junk"])
    assert doc["data"]["results"] == [
        {"no": None, "errcode": 1012, "errmsg": "SYS REQ PARAM CHECK ERROR"}
    ]


def test_empty_batch_is_3002(server) -> None:
    assert loginout(server, [])["errcode"] == 3002
    assert call(server, LOGINOUT_PATH, {})["errcode"] == 3002
    assert call(server, LOGINOUT_PATH, {"collections": None})["errcode"] == 3002


def test_over_128_items_is_3003(server, state) -> None:
    assert loginout(server, [item(n % 128 + 1, si=f"s{n}") for n in range(129)])["errcode"] == 3003
    assert not state.events
    full = [item(n) for n in range(1, 129)]
    assert loginout(server, full)["errcode"] == 0
    assert len(state.events) == 128


def test_collections_not_a_list_is_1012(server) -> None:
    assert call(server, LOGINOUT_PATH, {"collections": {"no": 1}})["errcode"] == 1012
    assert (
        call(server, LOGINOUT_PATH, body=json.dumps({"data": crypto.encrypt(P.secret_key, "[]")}))[
            "errcode"
        ]
        == 1012
    )


def test_parse_collections_is_pure() -> None:
    batch = parse_collections({"collections": [item(1), item(2, bt=5)]}, now_s=T0)
    assert batch.accepted == [(1, Event(si="s1", bt=1, ot=int(T0) - 10, ct=2, di="device-1"))]
    assert [(f.no, f.code) for f in batch.failed] == [(2, ErrorCode.BUS_COLL_BEHAVIOR_MODE_INVALID)]


def test_event_to_item_round_trips() -> None:
    event = Event(si="s", bt=0, ot=int(T0), ct=0, pi="1fffbj" + "0" * 32)
    assert event.to_item(3) == {"no": 3, "si": "s", "bt": 0, "ot": int(T0), "ct": 0, "pi": event.pi}
    batch = parse_collections({"collections": [event.to_item(3)]}, now_s=T0)
    assert batch.accepted == [(3, event)]


def test_clock_type_is_epoch_seconds(server) -> None:
    assert isinstance(datetime.fromtimestamp(server.clock()), datetime)
