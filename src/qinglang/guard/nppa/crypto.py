"""The NPPA interface's cryptography: AES-128-GCM request bodies and SHA-256 signatures.

Body: the JSON text is encrypted with AES-128-GCM under `bytes.fromhex(secretKey)` with a
random 12-byte IV; what travels is base64(IV + ciphertext + 16-byte tag) as
`{"data":"<base64>"}`.

Signature: lower-case hex SHA-256 of secretKey, then every signed parameter (the headers
appId, bizId, timestamps and the query parameters) sorted by name as name+value with no
separators, then the raw body text exactly as sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

IV_BYTES = 12
TAG_BYTES = 16
_HEX_KEY = re.compile(r"[0-9a-fA-F]{32}")


class NppaCryptoError(ValueError):
    """A key, body or ciphertext that cannot be used (bad key, bad base64, failed tag)."""


def new_secret_key() -> str:
    """A fresh secretKey: 32 lower-case hex characters (an AES-128 key)."""
    return secrets.token_hex(16)


def is_secret_key(text: str) -> bool:
    return bool(_HEX_KEY.fullmatch(text))


def _key(secret_key: str) -> AESGCM:
    if not is_secret_key(secret_key):
        raise NppaCryptoError("a secretKey is 32 hex characters")
    return AESGCM(bytes.fromhex(secret_key))


def encrypt_with_iv(secret_key: str, plaintext: str | bytes, iv: bytes) -> str:
    """base64(IV + ciphertext + tag) with a given IV: for test vectors only (never reuse IVs)."""
    if len(iv) != IV_BYTES:
        raise NppaCryptoError(f"the IV is {IV_BYTES} bytes")
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
    return base64.b64encode(iv + _key(secret_key).encrypt(iv, data, None)).decode("ascii")


def encrypt(secret_key: str, plaintext: str | bytes) -> str:
    """base64(IV + ciphertext + tag) of `plaintext` under a fresh random IV."""
    return encrypt_with_iv(secret_key, plaintext, os.urandom(IV_BYTES))


def decrypt(secret_key: str, data: str) -> str:
    """The UTF-8 text inside base64(IV + ciphertext + tag); raises `NppaCryptoError`."""
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NppaCryptoError("the data is not base64") from None
    if len(raw) < IV_BYTES + TAG_BYTES:
        raise NppaCryptoError("the data is too short for IV and tag")
    try:
        plain = _key(secret_key).decrypt(raw[:IV_BYTES], raw[IV_BYTES:], None)
    except InvalidTag:
        raise NppaCryptoError("the data does not decrypt under this key (tag mismatch)") from None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise NppaCryptoError("the decrypted data is not UTF-8") from None


def encrypt_body_with_iv(secret_key: str, payload: Mapping[str, object], iv: bytes) -> str:
    """The request body text `{"data":"..."}` for `payload` with a given IV (tests only)."""
    plain = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return json.dumps({"data": encrypt_with_iv(secret_key, plain, iv)}, separators=(",", ":"))


def encrypt_body(secret_key: str, payload: Mapping[str, object]) -> str:
    """The request body text `{"data":"..."}` carrying `payload` (a JSON object) encrypted."""
    return encrypt_body_with_iv(secret_key, payload, os.urandom(IV_BYTES))


def decrypt_body(secret_key: str, body: str | bytes) -> object:
    """The JSON value inside a request body `{"data":"..."}`; raises `NppaCryptoError`."""
    try:
        outer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NppaCryptoError("the body is not JSON") from None
    if not isinstance(outer, dict) or not isinstance(outer.get("data"), str):
        raise NppaCryptoError('the body is not {"data": "<base64>"}')
    try:
        return json.loads(decrypt(secret_key, outer["data"]))
    except ValueError as exc:
        if isinstance(exc, NppaCryptoError):
            raise
        raise NppaCryptoError("the decrypted data is not JSON") from None


def signing_text(secret_key: str, params: Mapping[str, str], body: str | bytes) -> bytes:
    """The exact bytes that are hashed: secretKey + sorted key+value pairs + raw body."""
    joined = "".join(f"{k}{params[k]}" for k in sorted(params))
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return (secret_key + joined).encode("utf-8") + raw


def sign(secret_key: str, params: Mapping[str, str], body: str | bytes) -> str:
    """Lower-case hex SHA-256 signature of a request (`params` excludes sign, Content-Type)."""
    return hashlib.sha256(signing_text(secret_key, params, body)).hexdigest()


def verify(secret_key: str, params: Mapping[str, str], body: str | bytes, signature: str) -> bool:
    """Whether `signature` is right, compared in constant time (case-insensitive hex)."""
    expected = sign(secret_key, params, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.lower().encode("utf-8"))
