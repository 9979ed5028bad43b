"""Quiet hours at their edges, the backoff and the routing checks: pure rules, no database."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tuangou.notifications import rules

SH = ZoneInfo("Asia/Shanghai")
NIGHT = (time(22, 0), time(8, 0))


def at(hh: int, mm: int, ss: int = 0, day: int = 7) -> datetime:
    return datetime(2026, 12, day, hh, mm, ss, tzinfo=SH)


@pytest.mark.parametrize(
    ("now", "ends"),
    [
        (at(21, 59, 59), None),  # the last second before
        (at(22, 0), at(8, 0, day=8)),  # the start is inside
        (at(23, 30), at(8, 0, day=8)),
        (at(0, 0), at(8, 0)),  # after midnight: the same morning
        (at(7, 59, 59), at(8, 0)),
        (at(8, 0), None),  # the end is not inside
        (at(12, 0), None),
    ],
)
def test_quiet_hours_over_midnight_at_their_edges(now: datetime, ends: datetime | None) -> None:
    assert rules.quiet_end(now, *NIGHT) == ends


def test_quiet_hours_within_a_day_and_none_when_start_equals_end() -> None:
    noon = (time(12, 0), time(14, 0))
    assert rules.quiet_end(at(11, 59), *noon) is None
    assert rules.quiet_end(at(12, 0), *noon) == at(14, 0)
    assert rules.quiet_end(at(14, 0), *noon) is None
    assert rules.quiet_end(at(23, 0), time(8, 0), time(8, 0)) is None


def test_the_pickup_day_reminder_goes_at_night_only_if_allowed() -> None:
    night = at(23, 0)
    kw = {"quiet_start": NIGHT[0], "quiet_end_at": NIGHT[1]}
    assert rules.sms_not_before(night, kind="pickup.arrived", pickup_at_night=True, **kw) is None
    assert rules.sms_not_before(night, kind="pickup.arrived", pickup_at_night=False, **kw) == at(
        8, 0, day=8
    )
    # Allowing the pickup-day reminder lets nothing else through.
    assert rules.sms_not_before(night, kind="order.shipped", pickup_at_night=True, **kw) == at(
        8, 0, day=8
    )


def test_times_of_day_are_parsed_strictly() -> None:
    assert rules.parse_hhmm("22:00") == time(22, 0)
    assert rules.parse_hhmm(" 7:05 ") == time(7, 5)
    for bad in ("", "22", "25:00", "22:60", "22:0", "ab:cd", "22:00:00"):
        with pytest.raises(ValueError):
            rules.parse_hhmm(bad)


def test_the_backoff_grows_and_is_capped() -> None:
    delays = [rules.retry_delay(n) for n in range(1, 8)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 4, 16, 64)]
    assert delays == sorted(delays)
    assert delays[-1] == timedelta(hours=6)


def test_routes_name_known_kinds_and_channels() -> None:
    kinds = ["pickup.arrived", "order.shipped"]
    assert rules.routes_valid({"pickup.arrived": ["sms", "wechat"]}, kinds) == []
    assert rules.routes_valid({"nope": ["sms"]}, kinds)
    assert rules.routes_valid({"pickup.arrived": ["fax"]}, kinds)


def test_addresses_are_masked() -> None:
    assert rules.mask_address("sms", "13812348000") == "138****8000"
    assert rules.mask_address("email", "ops@example.org") == "o***@example.org"
    assert rules.mask_address("wechat", "oABCDEFGHIJK1234") == "…1234"


def test_the_cli_sends_a_test_message_and_masks_the_address() -> None:
    from typer.testing import CliRunner

    from tuangou.cli import app

    runner = CliRunner()
    sent = runner.invoke(app, ["notify", "test", "--channel", "sms", "--to", "13812348000"])
    assert sent.exit_code == 0, sent.output
    assert "138****8000" in sent.output and "13812348000" not in sent.output
    refused = runner.invoke(app, ["notify", "test", "--channel", "fax", "--to", "x"])
    assert refused.exit_code == 1 and "unknown channel" in refused.output
