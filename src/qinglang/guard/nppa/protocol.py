"""The NPPA interface's messages: error codes, field rules and response documents (pure).

Field rules (网络游戏防沉迷实名认证系统 interface spec): `ai` (the game's account id) at most
32 characters; `si` (session id) and `di` (device id) at most 32; `pi` (the player id issued by
the system) 38 characters; `bt` behaviour type 0 logout / 1 login; `ct` 0 certified user /
2 guest; `ot` epoch seconds; `no` 1..128, unique within a batch of at most 128 items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from qinglang.guard.pi import is_pi

CHECK_PATH = "/idcard/authentication/check"
QUERY_PATH = "/idcard/authentication/query"
LOGINOUT_PATH = "/behavior/collection/loginout"
ROUTES: dict[str, str] = {CHECK_PATH: "POST", QUERY_PATH: "GET", LOGINOUT_PATH: "POST"}

MAX_BATCH = 128
MAX_AI = 32
MAX_SI = 32
MAX_DI = 32
PI_LENGTH = 38
MAX_NAME = 64  # not in the spec; a bound so that a name cannot be arbitrarily long


class ErrorCode(IntEnum):
    """The `errcode` values; `.errmsg` is the wire text, `.message_zh` the spec's description."""

    OK = 0
    SYS_ERROR = 1001
    SYS_REQ_RESOURCE_NOT_EXIST = 1002
    SYS_REQ_METHOD_ERROR = 1003
    SYS_REQ_HEADER_MISS_ERROR = 1004
    SYS_REQ_IP_ERROR = 1005
    SYS_REQ_BUSY_ERROR = 1006
    SYS_REQ_EXPIRE_ERROR = 1007
    SYS_REQ_PARTNER_ERROR = 1008
    SYS_REQ_PARTNER_AUTH_DISABLE = 1009
    SYS_REQ_AUTH_ERROR = 1010
    SYS_REQ_PARTNER_AUTH_ERROR = 1011
    SYS_REQ_PARAM_CHECK_ERROR = 1012
    BUS_AUTH_IDNUM_ILLEGAL = 2001
    BUS_AUTH_RESOURCE_LIMIT = 2002
    BUS_AUTH_CODE_NO_AUTH_RECODE = 2003
    BUS_AUTH_CODE_ALREADY_IN_USE = 2004
    BUS_COLL_PARTIAL_ERROR = 3001
    BUS_COLL_BEHAVIOR_NULL_ERROR = 3002
    BUS_COLL_OVER_LIMIT_COUNT = 3003
    BUS_COLL_NO_INVALID = 3004
    BUS_COLL_BEHAVIOR_TIME_ERROR = 3005
    BUS_COLL_PLAYER_MODE_INVALID = 3006
    BUS_COLL_BEHAVIOR_MODE_INVALID = 3007
    BUS_COLL_PLAYERID_MISS = 3008
    BUS_COLL_DEVICEID_MISS = 3009
    BUS_COLL_PLAYERID_INVALID = 3010

    @property
    def errmsg(self) -> str:
        return "OK" if self is ErrorCode.OK else self.name.replace("_", " ")

    @property
    def message_zh(self) -> str:
        return _MESSAGES_ZH[self]


_MESSAGES_ZH: dict[ErrorCode, str] = {
    ErrorCode.OK: "请求成功",
    ErrorCode.SYS_ERROR: "系统错误",
    ErrorCode.SYS_REQ_RESOURCE_NOT_EXIST: "接口请求的资源不存在",
    ErrorCode.SYS_REQ_METHOD_ERROR: "接口请求方式错误",
    ErrorCode.SYS_REQ_HEADER_MISS_ERROR: "接口请求核心参数缺失",
    ErrorCode.SYS_REQ_IP_ERROR: "接口请求IP地址非法",
    ErrorCode.SYS_REQ_BUSY_ERROR: "接口请求超出流量限制",
    ErrorCode.SYS_REQ_EXPIRE_ERROR: "接口请求过期",
    ErrorCode.SYS_REQ_PARTNER_ERROR: "接口请求方身份非法",
    ErrorCode.SYS_REQ_PARTNER_AUTH_DISABLE: "接口请求方权限未启用",
    ErrorCode.SYS_REQ_AUTH_ERROR: "接口请求方无该接口权限",
    ErrorCode.SYS_REQ_PARTNER_AUTH_ERROR: "接口请求方身份核验错误",
    ErrorCode.SYS_REQ_PARAM_CHECK_ERROR: "接口请求报文核验失败",
    ErrorCode.BUS_AUTH_IDNUM_ILLEGAL: "身份证号格式校验失败",
    ErrorCode.BUS_AUTH_RESOURCE_LIMIT: "实名认证条目已达上限",
    ErrorCode.BUS_AUTH_CODE_NO_AUTH_RECODE: "无该编码提交的实名认证记录",
    ErrorCode.BUS_AUTH_CODE_ALREADY_IN_USE: "编码已经被占用",
    ErrorCode.BUS_COLL_PARTIAL_ERROR: "行为数据部分上报失败",
    ErrorCode.BUS_COLL_BEHAVIOR_NULL_ERROR: "行为数据为空",
    ErrorCode.BUS_COLL_OVER_LIMIT_COUNT: "行为数据超出条目数量限制",
    ErrorCode.BUS_COLL_NO_INVALID: "行为数据编码错误",
    ErrorCode.BUS_COLL_BEHAVIOR_TIME_ERROR: "行为发生时间错误",
    ErrorCode.BUS_COLL_PLAYER_MODE_INVALID: "用户类型无效",
    ErrorCode.BUS_COLL_BEHAVIOR_MODE_INVALID: "行为类型无效",
    ErrorCode.BUS_COLL_PLAYERID_MISS: "缺失PI（用户唯一标识）值",
    ErrorCode.BUS_COLL_DEVICEID_MISS: "缺失DI（设备标识）值",
    ErrorCode.BUS_COLL_PLAYERID_INVALID: "PI（用户唯一标识）值无效",
}


class AuthStatus(IntEnum):
    SUCCESS = 0
    IN_PROGRESS = 1
    FAILED = 2


class BehaviourType(IntEnum):
    LOGOUT = 0
    LOGIN = 1


class PlayerType(IntEnum):
    CERTIFIED = 0
    GUEST = 2


class ProtocolError(ValueError):
    """A request refused as a whole with `code`."""

    def __init__(self, code: ErrorCode, detail: str = "") -> None:
        super().__init__(f"{int(code)} {code.errmsg}" + (f": {detail}" if detail else ""))
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Event:
    """One login or logout (a behaviour item without its batch number `no`)."""

    si: str  # the game's session id
    bt: int  # BehaviourType: 0 logout, 1 login
    ot: int  # when it happened, epoch seconds
    ct: int  # PlayerType: 0 certified (needs pi), 2 guest (needs di)
    di: str | None = None
    pi: str | None = None

    def to_item(self, no: int) -> dict[str, Any]:
        item: dict[str, Any] = {"no": no, "si": self.si, "bt": self.bt, "ot": self.ot}
        item["ct"] = self.ct
        if self.di is not None:
            item["di"] = self.di
        if self.pi is not None:
            item["pi"] = self.pi
        return item


@dataclass(frozen=True, slots=True)
class CheckRequest:
    ai: str
    name: str
    id_num: str

    def __repr__(self) -> str:  # personal data stays out of reprs and tracebacks
        return f"CheckRequest(ai={self.ai!r})"


@dataclass(frozen=True, slots=True)
class ItemResult:
    """A failed behaviour item as reported back: its `no` (None when it had none) and code."""

    no: Any
    code: ErrorCode

    def to_wire(self) -> dict[str, Any]:
        return {"no": self.no, "errcode": int(self.code), "errmsg": self.code.errmsg}


@dataclass(frozen=True, slots=True)
class Batch:
    """A loginout batch after validation: the good items (by `no`) and the failed ones."""

    accepted: list[tuple[int, Event]]
    failed: list[ItemResult]


def _is_int(value: object) -> bool:
    return type(value) is int  # JSON true/false are not numbers here


def _text(value: object, max_len: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_len


def valid_ai(value: object) -> bool:
    return _text(value, MAX_AI)


def valid_pi(value: object) -> bool:
    """38 characters of [0-9a-z] whose first 6 encode a real birth date (see guard.pi)."""
    return isinstance(value, str) and is_pi(value)


def parse_check(payload: object) -> CheckRequest:
    """The fields of a check body `{"ai","name","idNum"}`; raises `ProtocolError` (1012).

    The ID number is only checked to be a non-empty string here: whether it is a valid number
    (2001) is the server's call.
    """
    if not isinstance(payload, Mapping):
        raise ProtocolError(ErrorCode.SYS_REQ_PARAM_CHECK_ERROR, "the body is not an object")
    ai, name, id_num = payload.get("ai"), payload.get("name"), payload.get("idNum")
    if not valid_ai(ai):
        raise ProtocolError(ErrorCode.SYS_REQ_PARAM_CHECK_ERROR, "ai: 1 to 32 characters")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ProtocolError(ErrorCode.SYS_REQ_PARAM_CHECK_ERROR, "name: a non-empty string")
    if not isinstance(id_num, str) or not id_num.strip():
        raise ProtocolError(ErrorCode.SYS_REQ_PARAM_CHECK_ERROR, "idNum: a non-empty string")
    return CheckRequest(ai=ai, name=name.strip(), id_num=id_num)  # type: ignore[arg-type]


def check_item(
    item: Mapping[str, Any], *, now_s: float, max_age_s: float, skew_s: float
) -> Event | ErrorCode:
    """One behaviour item (its `no` already checked) as an Event, or the code it fails with."""
    bt, ct, ot, si = item.get("bt"), item.get("ct"), item.get("ot"), item.get("si")
    di, pi = item.get("di"), item.get("pi")
    if not _is_int(bt) or bt not in (0, 1):
        return ErrorCode.BUS_COLL_BEHAVIOR_MODE_INVALID
    if not _is_int(ct) or ct not in (0, 2):
        return ErrorCode.BUS_COLL_PLAYER_MODE_INVALID
    if not _is_int(ot) or ot < now_s - max_age_s or ot > now_s + skew_s:
        return ErrorCode.BUS_COLL_BEHAVIOR_TIME_ERROR
    if not _text(si, MAX_SI):
        return ErrorCode.SYS_REQ_PARAM_CHECK_ERROR
    if di is not None and di != "" and not _text(di, MAX_DI):
        return ErrorCode.SYS_REQ_PARAM_CHECK_ERROR
    di = di or None
    if ct == PlayerType.CERTIFIED:
        if pi is None or pi == "":
            return ErrorCode.BUS_COLL_PLAYERID_MISS
        if not valid_pi(pi):
            return ErrorCode.BUS_COLL_PLAYERID_INVALID
    else:
        if di is None:
            return ErrorCode.BUS_COLL_DEVICEID_MISS
        pi = None  # a guest has no pi; one sent anyway is ignored
    return Event(si=si, bt=bt, ot=ot, ct=ct, di=di, pi=pi)  # type: ignore[arg-type]


def parse_collections(
    payload: object, *, now_s: float, max_age_s: float = 180, skew_s: float = 5
) -> Batch:
    """Validate a loginout body `{"collections": [...]}` item by item.

    Raises `ProtocolError` for the batch as a whole: 1012 (not an object / list), 3002 (empty),
    3003 (more than 128 items). Item failures are returned, not raised: 3004 for a `no` outside
    1..128 or repeated in the batch (every repeat after the first), then the item's own rules.
    """
    if not isinstance(payload, Mapping):
        raise ProtocolError(ErrorCode.SYS_REQ_PARAM_CHECK_ERROR, "the body is not an object")
    items = payload.get("collections")
    if items is None or items == []:
        raise ProtocolError(ErrorCode.BUS_COLL_BEHAVIOR_NULL_ERROR)
    if not isinstance(items, list):
        raise ProtocolError(ErrorCode.SYS_REQ_PARAM_CHECK_ERROR, "collections is not a list")
    if len(items) > MAX_BATCH:
        raise ProtocolError(ErrorCode.BUS_COLL_OVER_LIMIT_COUNT)
    seen: set[int] = set()
    accepted: list[tuple[int, Event]] = []
    failed: list[ItemResult] = []
    for item in items:
        if not isinstance(item, Mapping):
            failed.append(ItemResult(None, ErrorCode.SYS_REQ_PARAM_CHECK_ERROR))
            continue
        no = item.get("no")
        wire_no = no if _is_int(no) or isinstance(no, str | float) else None
        if not _is_int(no) or not 1 <= no <= MAX_BATCH or no in seen:
            failed.append(ItemResult(wire_no, ErrorCode.BUS_COLL_NO_INVALID))
            continue
        seen.add(no)
        result = check_item(item, now_s=now_s, max_age_s=max_age_s, skew_s=skew_s)
        if isinstance(result, ErrorCode):
            failed.append(ItemResult(no, result))
        else:
            accepted.append((no, result))
    return Batch(accepted=accepted, failed=failed)


# ---------------------------------------------------------------- responses


def response(code: ErrorCode, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`{"errcode", "errmsg"[, "data"]}`."""
    doc: dict[str, Any] = {"errcode": int(code), "errmsg": code.errmsg}
    if data is not None:
        doc["data"] = dict(data)
    return doc


def auth_response(status: int, pi: str | None) -> dict[str, Any]:
    """A check / query answer: `data.result` with `status` and, on success only, `pi`."""
    result: dict[str, Any] = {"status": int(status)}
    if status == AuthStatus.SUCCESS and pi:
        result["pi"] = pi
    return response(ErrorCode.OK, {"result": result})


def loginout_response(failed: list[ItemResult]) -> dict[str, Any]:
    """A loginout answer: 0 when every item was taken, else 3001 listing the failed items."""
    results = [f.to_wire() for f in failed]
    code = ErrorCode.BUS_COLL_PARTIAL_ERROR if failed else ErrorCode.OK
    return response(code, {"results": results})
