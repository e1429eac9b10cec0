"""NPPA body encryption and request signatures against the published examples."""

from __future__ import annotations

import base64
import json

import pytest

from qinglang.guard.nppa import crypto

KEY = "2836e95fcd10e04b0069bb1ee659955b"
DATA = (
    "CqT/33f3jyoiYqT8MtxEFk3x2rlfhmgzhxpHqWosSj4d3hq2EbrtVyx2aLj565ZQNTcPrcDipnvpq/D/vQDaLKW70O83"
    "Q42zvR0//OfnYLcIjTPMnqa+SOhsjQrSdu66ySSORCAo"
)
BODY = '{"data":"' + DATA + '"}'
PARAMS = {
    "appId": "test-appId",
    "bizId": "test-bizId",
    "id": "test-id",
    "name": "test-name",
    "timestamps": "1584949895758",
}
SIGN = "386c03b776a28c06b8032a958fbd89337424ef45c62d0422706cca633d8ad5fd"
PLAIN = {"ai": "test-accountId", "name": "用户姓名", "idNum": "371321199012310912"}


def test_published_example_decrypts() -> None:
    assert json.loads(crypto.decrypt(KEY, DATA)) == PLAIN
    assert crypto.decrypt_body(KEY, BODY) == PLAIN


def test_published_example_re_encrypts_with_its_iv() -> None:
    iv = base64.b64decode(DATA)[:12]
    plain = crypto.decrypt(KEY, DATA)
    assert crypto.encrypt_with_iv(KEY, plain, iv) == DATA


def test_published_signature() -> None:
    assert crypto.sign(KEY, PARAMS, BODY) == SIGN
    assert crypto.sign(KEY, PARAMS, BODY.encode()) == SIGN
    assert crypto.verify(KEY, PARAMS, BODY, SIGN)
    assert crypto.verify(KEY, PARAMS, BODY, SIGN.upper())


def test_signature_depends_on_every_part() -> None:
    assert not crypto.verify(KEY, {**PARAMS, "id": "other"}, BODY, SIGN)
    assert not crypto.verify(KEY, PARAMS, BODY + " ", SIGN)
    assert not crypto.verify("0" * 32, PARAMS, BODY, SIGN)
    assert not crypto.verify(KEY, PARAMS, BODY, "")
    assert not crypto.verify(KEY, PARAMS, BODY, "签名")


def test_signing_text_sorts_parameters() -> None:
    text = crypto.signing_text("k", {"b": "2", "a": "1"}, "{}")
    assert text == b"ka1b2{}"


def test_round_trip_uses_fresh_ivs() -> None:
    key = crypto.new_secret_key()
    assert crypto.is_secret_key(key)
    payload = {"collections": [{"no": 1, "si": "会话", "bt": 1}]}
    one, two = crypto.encrypt_body(key, payload), crypto.encrypt_body(key, payload)
    assert one != two
    assert crypto.decrypt_body(key, one) == payload == crypto.decrypt_body(key, two)


def test_tampered_tag_fails() -> None:
    raw = bytearray(base64.b64decode(DATA))
    raw[-1] ^= 1
    with pytest.raises(crypto.NppaCryptoError):
        crypto.decrypt(KEY, base64.b64encode(bytes(raw)).decode())


def test_tampered_ciphertext_and_wrong_key_fail() -> None:
    raw = bytearray(base64.b64decode(DATA))
    raw[20] ^= 0x80
    with pytest.raises(crypto.NppaCryptoError):
        crypto.decrypt(KEY, base64.b64encode(bytes(raw)).decode())
    with pytest.raises(crypto.NppaCryptoError):
        crypto.decrypt(crypto.new_secret_key(), DATA)


@pytest.mark.parametrize(
    "body",
    ["", "not json", "[]", '{"data": 1}', '{"data": "***"}', '{"data": "AAAA"}', b"\xff"],
)
def test_bad_bodies_raise(body: str | bytes) -> None:
    with pytest.raises(crypto.NppaCryptoError):
        crypto.decrypt_body(KEY, body)


def test_bad_key_and_iv() -> None:
    with pytest.raises(crypto.NppaCryptoError):
        crypto.encrypt("short", "x")
    with pytest.raises(crypto.NppaCryptoError):
        crypto.encrypt_with_iv(KEY, "x", b"\0" * 11)
