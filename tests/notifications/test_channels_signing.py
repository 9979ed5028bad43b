"""The providers' request signing, checked against worked examples written out here step by
step from each provider's documented algorithm (the canonical request as literal text, then
its hashes and HMACs): Aliyun's V3 signature (ACS3-HMAC-SHA256) and Tencent Cloud's
TC3-HMAC-SHA256. These are our own worked examples, not vendor test vectors. No network."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from pydantic import SecretStr

from tuangou.notifications import sms
from tuangou.notifications.config import ChannelSettings


def _settings(**kw: object) -> ChannelSettings:
    base: dict[str, object] = {
        "sms_sign_name": "邻里团",
        "aliyun_access_key_id": "LTAI-test-id",
        "aliyun_access_key_secret": SecretStr("aliyun-test-secret"),
        "tencent_secret_id": "AKID-test-id",
        "tencent_secret_key": SecretStr("tencent-test-key"),
        "tencent_sms_app_id": "1400000001",
    }
    base.update(kw)
    return ChannelSettings(**base)  # type: ignore[arg-type]


def test_aliyun_v3_signature_matches_the_worked_example() -> None:
    provider = sms.AliyunSms(_settings())
    req = provider.request(
        "13812348000",
        sms.Template("SMS_0001", ("code",)),
        {"code": "123456"},
        nonce="3156853299f313e23d1673dc12e1703d",
        at=datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC),
    )
    # The parameters travel as a form body, sorted, every byte outside A-Z a-z 0-9 - _ . ~
    # percent-encoded in upper-case hex.
    body = (
        "PhoneNumbers=13812348000"
        "&SignName=%E9%82%BB%E9%87%8C%E5%9B%A2"
        "&TemplateCode=SMS_0001"
        "&TemplateParam=%7B%22code%22%3A%22123456%22%7D"
    )
    assert req.content == body.encode()
    body_sha = hashlib.sha256(body.encode()).hexdigest()
    # Step 1, the canonical request: the method, "/", the (empty) query, the signed headers
    # (host, content-type and x-acs-*, lower-case, sorted, "name:value\n"), their names,
    # the body's SHA-256.
    canonical = (
        "POST\n"
        "/\n"
        "\n"
        "content-type:application/x-www-form-urlencoded\n"
        "host:dysmsapi.aliyuncs.com\n"
        "x-acs-action:SendSms\n"
        f"x-acs-content-sha256:{body_sha}\n"
        "x-acs-date:2026-12-07T12:00:00Z\n"
        "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
        "x-acs-version:2017-05-25\n"
        "\n"
        "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;"
        "x-acs-signature-nonce;x-acs-version\n"
        f"{body_sha}"
    )
    # Step 2, the string to sign; step 3, HMAC-SHA256 under the AccessKey secret, in hex.
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(b"aliyun-test-secret", to_sign.encode(), hashlib.sha256).hexdigest()
    assert req.headers["Authorization"] == (
        "ACS3-HMAC-SHA256 Credential=LTAI-test-id,"
        "SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;"
        f"x-acs-signature-nonce;x-acs-version,Signature={signature}"
    )
    # The request carries what was signed; the phone is in no URL (URLs are logged).
    url = urlsplit(str(req.url))
    assert url.netloc == "dysmsapi.aliyuncs.com" and url.path == "/" and not url.query
    assert dict(parse_qsl(body)) == {
        "PhoneNumbers": "13812348000",
        "SignName": "邻里团",
        "TemplateCode": "SMS_0001",
        "TemplateParam": '{"code":"123456"}',
    }
    assert req.headers["x-acs-date"] == "2026-12-07T12:00:00Z"
    # The secret itself travels nowhere.
    assert b"aliyun-test-secret" not in req.content
    assert "aliyun-test-secret" not in str(req.url) + json.dumps(dict(req.headers))


def test_aliyun_signature_changes_with_any_signed_part() -> None:
    provider = sms.AliyunSms(_settings())
    at = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
    template = sms.Template("SMS_0001", ("code",))
    base = provider.request("13812348000", template, {"code": "1"}, nonce="n", at=at)
    other_code = provider.request("13812348000", template, {"code": "2"}, nonce="n", at=at)
    other_nonce = provider.request("13812348000", template, {"code": "1"}, nonce="m", at=at)
    other_key = sms.AliyunSms(_settings(aliyun_access_key_secret=SecretStr("x"))).request(
        "13812348000", template, {"code": "1"}, nonce="n", at=at
    )
    signatures = {r.headers["Authorization"] for r in (base, other_code, other_nonce, other_key)}
    assert len(signatures) == 4


def test_tencent_tc3_signature_matches_the_worked_example() -> None:
    provider = sms.TencentSms(_settings())
    timestamp = 1796904000  # 2026-12-10T12:00:00Z
    req = provider.request(
        "13812348000",
        sms.Template("2000001", ("subject", "code")),
        {"subject": "苹果", "code": "A1B2"},
        timestamp=timestamp,
    )
    payload = req.content
    assert json.loads(payload) == {
        "PhoneNumberSet": ["+8613812348000"],
        "SmsSdkAppId": "1400000001",
        "SignName": "邻里团",
        "TemplateId": "2000001",
        "TemplateParamSet": ["苹果", "A1B2"],
    }
    # Step 1, the canonical request: method, URI "/", an empty query, the headers
    # content-type, host and x-tc-action (its value lower-case), their names, the payload's
    # SHA-256.
    canonical = (
        "POST\n/\n\n"
        "content-type:application/json; charset=utf-8\n"
        "host:sms.tencentcloudapi.com\n"
        "x-tc-action:sendsms\n"
        "\n"
        "content-type;host;x-tc-action\n" + hashlib.sha256(payload).hexdigest()
    )
    # Step 2, the string to sign: algorithm, timestamp, credential scope (UTC date/service/
    # tc3_request), the canonical request's hash.
    to_sign = (
        "TC3-HMAC-SHA256\n1796904000\n2026-12-10/sms/tc3_request\n"
        + hashlib.sha256(canonical.encode()).hexdigest()
    )

    # Step 3, the key: HMAC chained from "TC3" + SecretKey through date, service, tc3_request.
    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(b"TC3tencent-test-key", "2026-12-10"), "sms"), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    assert req.headers["Authorization"] == (
        "TC3-HMAC-SHA256 Credential=AKID-test-id/2026-12-10/sms/tc3_request, "
        f"SignedHeaders=content-type;host;x-tc-action, Signature={signature}"
    )
    assert req.headers["X-TC-Action"] == "SendSms"
    assert req.headers["X-TC-Version"] == "2021-01-11"
    assert req.headers["X-TC-Timestamp"] == "1796904000"
    assert req.headers["X-TC-Region"] == "ap-guangzhou"
    assert "tencent-test-key" not in json.dumps(dict(req.headers))


def test_the_settings_never_show_a_secret() -> None:
    settings = _settings(smtp_password=SecretStr("smtp-pass"), wechat_app_secret=SecretStr("wx-s"))
    shown = repr(settings) + str(settings) + settings.model_dump_json() + str(settings.model_dump())
    for secret in ("aliyun-test-secret", "tencent-test-key", "smtp-pass", "wx-s"):
        assert secret not in shown
    assert settings.smtp_password.get_secret_value() == "smtp-pass"
