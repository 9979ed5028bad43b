"""The operator's bounds and defaults of the posting rhythm, from the environment
(``TUANGOU_POSTS_*``): a leader sets their community's rhythm within them."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tuangou.posts import rules


class PostSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUANGOU_POSTS_", extra="ignore")

    # Deal posts a day: a community without a rhythm of its own gets the default; a leader
    # sets 0..the bound.
    deals_per_day_default: int = Field(default=rules.DEFAULT_DEALS_PER_DAY, ge=0, le=100)
    deals_per_day_bound: int = Field(default=rules.DEALS_PER_DAY_BOUND, ge=0, le=100)
    # New members (joined the community less than new_member_hours ago) are slowed.
    new_member_hours: int = Field(default=24, ge=0, le=24 * 30)
    new_member_post_gap_seconds: int = Field(default=120, ge=0, le=86400)
    new_member_reply_gap_seconds: int = Field(default=30, ge=0, le=86400)
    new_member_first_day_replies: int = Field(default=10, ge=0, le=10_000)

    def limits(self) -> rules.NewMemberLimits:
        return rules.NewMemberLimits(
            new_for=timedelta(hours=self.new_member_hours),
            post_gap=timedelta(seconds=self.new_member_post_gap_seconds),
            reply_gap=timedelta(seconds=self.new_member_reply_gap_seconds),
            first_day_replies=self.new_member_first_day_replies,
        )


@lru_cache
def get_post_settings() -> PostSettings:
    return PostSettings()
