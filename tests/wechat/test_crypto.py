"""The crypto layer against the vectors of WeChat's sample code (WXBizMsgCrypt) and wechatpy's tests."""

from __future__ import annotations

import pytest

from wechat import crypto

# WeChat's sample: 公众号 message encryption (Sample.py / the Go port's tests).
SAMPLE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE_APP = "wx2c2769f8efd9abc2"
SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9F"
    "rXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+"
    "WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0E"
    "IBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
# The encryption vector with a fixed random prefix (wechatpy tests/test_crypto.py, same scheme).
W_KEY, W_APP, W_TOKEN = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a", "123456"
W_REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
W_ENCRYPTED = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5n"
    "Z+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03ox"
    "I1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxE"
    "E8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)
OTHER_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"


def test_signature_vectors() -> None:
    assert crypto.signature("789", "456", "123") == "f7c3bc1d808e04732adf679965ccc34ca7ae3441"
    assert crypto.signature_ok("5d197aaffba7e9b25a30732f161a50dee96bd5fa", "spamtest", "1409735669", "1320562132",
                               SAMPLE_ENCRYPT)
    assert not crypto.signature_ok("5d197aaffba7e9b25a30732f161a50dee96bd5fa", "spamtest", "1409735669", "1320562133",
                                   SAMPLE_ENCRYPT)
    assert not crypto.signature_ok(None, "a", "b", "c")


def test_decrypts_wechat_sample() -> None:
    plain = crypto.MessageCrypto(SAMPLE_APP, SAMPLE_KEY).decrypt(SAMPLE_ENCRYPT)
    assert "<Content><![CDATA[abcdteT]]></Content>" in plain
    assert "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>" in plain


def test_encrypts_like_the_reference() -> None:
    out = crypto.MessageCrypto(W_APP, W_KEY).encrypt(W_REPLY, random16=b"1234567890123456")
    assert out == W_ENCRYPTED
    assert crypto.signature(W_TOKEN, "1411525903", "461056294", out) == "407518b7649e86ef23978113f92d27afa9296533"


def test_other_app_or_key_refused_and_previous_key_accepted() -> None:
    with pytest.raises(crypto.CryptoError):
        crypto.MessageCrypto("wx-someone-else", SAMPLE_KEY).decrypt(SAMPLE_ENCRYPT)
    with pytest.raises(crypto.CryptoError):
        crypto.MessageCrypto(SAMPLE_APP, OTHER_KEY).decrypt(SAMPLE_ENCRYPT)
    # Rotation: the new key is current, the old one still opens messages WeChat signed before the switch.
    rotated = crypto.MessageCrypto(SAMPLE_APP, OTHER_KEY, previous_key=SAMPLE_KEY)
    assert "abcdteT" in rotated.decrypt(SAMPLE_ENCRYPT)
    # ...and replies are encrypted under the new key only.
    reply = rotated.encrypt("<xml/>")
    assert crypto.MessageCrypto(SAMPLE_APP, OTHER_KEY).decrypt(reply) == "<xml/>"
    with pytest.raises(crypto.CryptoError):
        crypto.MessageCrypto(SAMPLE_APP, SAMPLE_KEY).decrypt(reply)


@pytest.mark.parametrize("bad", ["", "not base64!", "QUJD", SAMPLE_ENCRYPT[:-8] + "AAAAAAA="])
def test_garbage_refused(bad: str) -> None:
    with pytest.raises(crypto.CryptoError):
        crypto.MessageCrypto(SAMPLE_APP, SAMPLE_KEY).decrypt(bad)


def test_bad_keys_refused() -> None:
    for key in ("short", SAMPLE_KEY[:-1] + "!"):
        with pytest.raises(crypto.CryptoError):
            crypto.aes_key(key)
