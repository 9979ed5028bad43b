"""Settings, read from the environment (prefix ``TUANGOU_``; ``DATABASE_URL`` as is)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_OPERATOR_FEE_BPS = 4800


class Settings(BaseSettings):
    # Settings come from the environment, or from a dotenv file named by TUANGOU_ENV_FILE.
    model_config = SettingsConfigDict(
        env_prefix="TUANGOU_", extra="ignore", env_file=os.environ.get("TUANGOU_ENV_FILE") or None
    )

    database_url: str = Field(
        default="sqlite:///tuangou.db",
        validation_alias=AliasChoices("DATABASE_URL", "TUANGOU_DATABASE_URL"),
    )
    secret_key: str = ""  # empty: generated once and kept in the database
    timezone: str = "Asia/Shanghai"
    log_format: Literal["text", "json"] = "text"  # json: one object a line, for production
    # /metrics (Prometheus): with a token, only a scraper sending it as a bearer token reads
    # it; without one, only callers on this machine (loopback).
    metrics_token: str = ""
    currency: str = "CNY"
    # Background work inside the server process (``tuangou worker`` runs it standalone).
    run_worker: bool = True
    worker_interval: float = 0.5
    # Money and fulfilment defaults (DOMAIN.md).
    # The operator's fee, in basis points of the kept amount (0 by default). At most 48%: with
    # a leader's commission (at most 50%) and their upline's override (2%) on a wave order,
    # the rates then never add up to more than the whole amount.
    operator_fee_bps: int = Field(default=0, ge=0, le=MAX_OPERATOR_FEE_BPS)
    auto_confirm_days: int = 7
    # A sub-leader invitation can be accepted for this many days.
    sub_leader_invitation_days: int = Field(default=7, ge=1, le=90)
    payment_reconcile_seconds: int = 30
    # Co-creation (共创): votes count from accounts this many days old (or with a completed
    # order); an open proposal is archived this many days after it was made.
    cocreate_vote_account_days: int = Field(default=7, ge=0, le=365)
    cocreate_archive_days: int = Field(default=60, ge=1, le=3650)
    # Recommendations (猜你喜欢): the worker trains a new model version this many hours after
    # the last training (0: only `tuangou recommend train` does).
    recommend_train_hours: int = Field(default=24, ge=0, le=24 * 365)
    # Payment gateway: "sandbox" is the built-in one.
    gateway: str = "sandbox"
    sandbox_callback_delay_ms: int = 20
    # Fault injection for the sandbox: probabilities 0..1 of each fault on a payment
    # whose outcome the payer did not choose, e.g. "decline=0.1,timeout=0.05,duplicate=0.2".
    sandbox_faults: str = ""
    # Real gateways (docs/DEPLOY.md, "Payment gateways"). A gateway is on once its merchant/app
    # id and keys are set; with none on, the sandbox takes the payments. Keys are PEM text or a
    # path to a PEM file; secrets are SecretStr (never shown in a repr or a log). Notify URLs
    # are built on public_url. A notification older than notify_window_seconds is refused.
    wechat_mchid: str = ""
    wechat_appid: str = ""
    wechat_cert_serial_no: str = ""
    wechat_private_key: SecretStr = SecretStr("")
    wechat_public_key: str = ""
    wechat_public_key_id: str = ""
    wechat_apiv3_key: SecretStr = SecretStr("")
    alipay_appid: str = ""
    alipay_private_key: SecretStr = SecretStr("")
    alipay_public_key: str = ""
    alipay_seller_id: str = ""
    alipay_sandbox: bool = False
    notify_window_seconds: int = Field(default=300, ge=30, le=3600)
    # SMS: "log" writes one-time codes to the server log.
    sms_sender: str = "log"
    token_ttl_days: int = 30
    # The cost of a new password's hash (scrypt's n, a power of two). Each stored hash keeps
    # its own cost, so a change applies to new passwords only. The tests lower it.
    password_hash_n: int = Field(default=2**14, ge=2, le=2**20)
    # Attempt limits (tuangou.core.limits): wrong passwords per phone and per IP address in
    # 15 minutes, SMS codes and sign-ups per IP address in an hour.
    wrong_passwords_per_phone: int = Field(default=5, ge=1)
    wrong_passwords_per_ip: int = Field(default=30, ge=1)
    codes_per_ip: int = Field(default=5, ge=1)
    signups_per_ip: int = Field(default=10, ge=1)
    # Web sessions: mark the cookie Secure (turn on when served over HTTPS). A page session
    # ends after this many hours without a request (idle), and this many days after its
    # log-in whatever happens (absolute).
    cookie_secure: bool = False
    web_session_idle_hours: int = Field(default=72, ge=1)
    web_session_max_days: int = Field(default=30, ge=1)
    db_pool_size: int = 20
    # Check the one lock order (tuangou.core.locks) on every write path that declares its
    # locks, and fail loudly when a path breaks it. On in the tests; off, it costs nothing.
    check_lock_order: bool = False
    # Moderation: reports from this many distinct members hide a post, reply or review until a
    # moderator reviews it; the text filter's own word list (a file, one term a line) added to
    # the shipped one (tuangou/moderation/words.txt).
    moderation_report_threshold: int = Field(default=3, ge=1, le=100)
    moderation_word_list: str = ""
    # After-sale photos; empty: "uploads" next to a SQLite database file, else ./uploads.
    upload_dir: str = ""
    # Where members reach this server (e.g. "https://tuan.example.org" behind a proxy): the
    # base of share links, invite links and their QR codes. Empty: the address of the request.
    public_url: str = ""
    # The operator's customer service (联系客服), shown on every order that has no leader to
    # ask (a team-buy order): a phone number ("400-123-4567": a tel: link), or any short text
    # (a WeChat id, hours). Empty: not shown.
    service_contact: str = Field(default="", max_length=100)
    # The font of share posters (a path to a .ttf, .otf or .ttc with Chinese glyphs). Empty:
    # well-known system fonts, then fontconfig (tuangou.web.poster); never downloaded.
    poster_font: str = ""
    # Outgoing webhooks (tuangou.webhooks): endpoints on loopback or private addresses are
    # refused unless allowed (tests, a receiver on the same machine); a rotated secret keeps
    # signing beside the new one this many hours; each request waits this long for a reply.
    webhook_allow_private: bool = False
    webhook_secret_overlap_hours: int = Field(default=24, ge=0, le=24 * 30)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # The map a leader applicant picks their pickup point on: a tile server's URL template with
    # {z}, {x} and {y} ("https://tiles.example.com/{z}/{x}/{y}.png", Web Mercator tiles in
    # GCJ-02, as Chinese map providers serve them), its attribution (the provider's terms ask
    # for it), and where the map starts ("30.2741,120.1551"; empty: all of China). https or
    # this site's own path: the pages' Content-Security-Policy loads images from nowhere else.
    # Empty: no map; the applicant types the coordinates.
    map_tile_url: str = ""
    map_attribution: str = Field(default="", max_length=200)
    map_center: str = ""
    # The verifiable record (tuangou.journal): the Ed25519 signing key of its checkpoints (a
    # PEM file; empty: journal-ed25519.pem in the data directory, made on first use), and how
    # often the worker signs a checkpoint of a grown log.
    journal_key_file: str = ""
    journal_checkpoint_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Privacy: raw data kept this many days, then purged (tuangou privacy purge, and the
    # worker): one-time login codes, page sessions, the risk events' device, IP and phone.
    # Each kind may have its own number; 0 there means "the common one".
    retention_days: int = Field(default=90, ge=1, le=3650)
    retention_codes_days: int = Field(default=0, ge=0, le=3650)
    retention_sessions_days: int = Field(default=0, ge=0, le=3650)
    retention_risk_days: int = Field(default=0, ge=0, le=3650)

    @field_validator("password_hash_n")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError("password_hash_n must be a power of two")
        return value

    @field_validator("service_contact", "map_attribution")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("map_tile_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        if not value.startswith(("https://", "/")):
            raise ValueError("map_tile_url must start with https:// or / (this site)")
        if any(part not in value for part in ("{z}", "{x}", "{y}")):
            raise ValueError("map_tile_url must name {z}, {x} and {y}")
        return value

    @field_validator("map_center")
    @classmethod
    def _lat_lon(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        try:
            lat, lon = (float(v) for v in value.split(","))
        except ValueError:
            raise ValueError("map_center is latitude,longitude, like 30.2741,120.1551") from None
        if not (-85 <= lat <= 85 and -180 <= lon <= 180):
            raise ValueError("map_center is out of range")
        return f"{lat},{lon}"

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("public_url must start with http:// or https://")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    get_settings.cache_clear()
