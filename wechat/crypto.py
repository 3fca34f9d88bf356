"""WeChat's callback signatures and 安全模式 message encryption, on `cryptography`.

The scheme, as documented for 公众号 (消息加解密说明) and its sample code (WXBizMsgCrypt):

- signature: SHA1 (hex) of the sorted, concatenated strings [token, timestamp, nonce], plus the
  `Encrypt` text for `msg_signature` in 安全模式;
- encryption: AES-256-CBC, the key is base64(EncodingAESKey + "="), the IV its first 16 bytes;
  the plaintext is random(16) + len(msg) (4 bytes, network order) + msg + appid, padded PKCS#7 to a
  multiple of 32 bytes (not the cipher's 16), then base64.

wechatpy was not used: its last release is an alpha from 2022 and it brings requests, xmltodict and
more; this file is the small part we need (docs/architecture.md "Channels"). Tests check it against
the vectors of WeChat's sample code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16


class CryptoError(ValueError):
    """A message that does not decrypt, or decrypts to another app's message."""


def signature(*parts: str) -> str:
    """SHA1 of the sorted, concatenated parts (token, timestamp, nonce[, encrypt])."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_ok(expected: str | None, *parts: str) -> bool:
    """Constant-time comparison of a received signature with the one computed from `parts`."""
    if not expected:
        return False
    return hmac.compare_digest(signature(*parts).encode(), expected.strip().lower().encode())


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey."""
    if len(encoding_aes_key) != 43:
        raise CryptoError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as e:
        raise CryptoError("EncodingAESKey is not base64") from e
    if len(key) != 32:
        raise CryptoError("EncodingAESKey must decode to 32 bytes")
    return key


def _pad(data: bytes) -> bytes:
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    if not data:
        raise CryptoError("empty plaintext")
    n = data[-1]
    if not 1 <= n <= BLOCK or data[-n:] != bytes([n]) * n:
        raise CryptoError("bad padding")
    return data[:-n]


class MessageCrypto:
    """Encrypts and decrypts messages of one app; decrypts with the previous key too (rotation)."""

    def __init__(self, app_id: str, encoding_aes_key: str, previous_key: str | None = None) -> None:
        self.app_id = app_id
        self.keys = [aes_key(encoding_aes_key)] + ([aes_key(previous_key)] if previous_key else [])

    def encrypt(self, message: str | bytes, *, random16: bytes | None = None) -> str:
        """Base64 ciphertext of `message` under the current key."""
        body = message.encode() if isinstance(message, str) else message
        prefix = random16 if random16 is not None else os.urandom(16)
        if len(prefix) != 16:
            raise ValueError("random prefix must be 16 bytes")
        plain = _pad(prefix + struct.pack(">I", len(body)) + body + self.app_id.encode())
        key = self.keys[0]
        enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode()

    def decrypt(self, ciphertext: str) -> str:
        """The message inside `ciphertext`, trying the current key, then the previous one."""
        try:
            raw = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError) as e:
            raise CryptoError("ciphertext is not base64") from e
        if not raw or len(raw) % 16:
            raise CryptoError("ciphertext length is not a multiple of the block size")
        for key in self.keys:
            found = self._open(key, raw)
            if found is not None:
                return found
        raise CryptoError("message does not decrypt to this app's message")

    def _open(self, key: bytes, raw: bytes) -> str | None:
        dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        try:
            plain = _unpad(dec.update(raw) + dec.finalize())
        except CryptoError:
            return None
        if len(plain) < 20:
            return None
        (size,) = struct.unpack(">I", plain[16:20])
        body, app_id = plain[20 : 20 + size], plain[20 + size :]
        # The appid check is what tells a wrong key from a right one, and another app's message.
        if len(body) != size or not hmac.compare_digest(app_id, self.app_id.encode()):
            return None
        try:
            return body.decode()
        except UnicodeDecodeError:
            return None
