"""The pure rules: the topic list, addresses, the body, the signature and the schedule."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

import tuangou
from tuangou.webhooks import rules

SRC = Path(tuangou.__file__).parent


def test_the_topics_are_those_the_platform_emits() -> None:
    """Every topic the code emits by name is on the list, and the list names no other."""
    emitted: set[str] = set()
    pattern = re.compile(
        r"""(?:emit\(\s*\w+,\s*|_tell\(\s*|^\w+ = )["']([a-z_]+\.[a-z_]+)["']""", re.M
    )
    for path in SRC.rglob("*.py"):
        if "webhooks" in path.parts:
            continue
        emitted |= set(pattern.findall(path.read_text(encoding="utf-8")))
    from tuangou.notifications import service as notifications

    emitted |= set(notifications.TOPICS)
    assert len(emitted) > 40  # the scan found the emitting code
    assert emitted - set(rules.TOPICS) == set()
    assert {"order.completed", "review.published", "pickup.arrived"} <= set(rules.TOPICS)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://hooks.example.org/x",
        "gopher://hooks.example.org/",
        "http://127.0.0.1/x",
        "http://localhost:8080/x",
        "http://api.localhost/x",
        "http://[::1]/x",
        "http://10.0.0.8/x",
        "http://192.168.1.2/x",
        "http://172.16.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/x",
        "https://user:pw@hooks.example.org/x",
        "https:///nohost",
    ],
)
def test_refused_addresses(url: str) -> None:
    with pytest.raises(rules.UrlRefused):
        rules.check_url(url, allow_private=False)


def test_allowed_addresses() -> None:
    assert rules.check_url(" https://hooks.example.org/tg ", allow_private=False) == (
        "https://hooks.example.org/tg"
    )
    assert rules.check_url("http://8.8.8.8:8080/x", allow_private=False)
    # The setting the tests (and a receiver on the same machine) turn on.
    assert rules.check_url("http://127.0.0.1:9/x", allow_private=True)
    with pytest.raises(rules.UrlRefused):
        rules.check_url("file:///x", allow_private=True)


def test_topics_are_checked() -> None:
    assert rules.check_topics(["team.formed", "order.completed", "team.formed"]) == [
        "order.completed",
        "team.formed",
    ]
    with pytest.raises(ValueError, match="Unknown"):
        rules.check_topics(["order.completed", "orders.everything"])
    with pytest.raises(ValueError, match="at least one"):
        rules.check_topics([" "])


def test_the_body_carries_no_secret_and_no_full_phone_number() -> None:
    payload = {
        "order_id": 3,
        "code": "123456",
        "phone": "13812348000",
        "contact": {"leader_phone": "13900001111", "access_token": "t"},
        "lines": [{"share": "abc", "qty": 2}],
    }
    sent = json.loads(rules.body("e1", "pickup.arrived", "2026-12-07T00:00:00+00:00", payload))
    assert sent == {
        "id": "e1",
        "topic": "pickup.arrived",
        "created_at": "2026-12-07T00:00:00+00:00",
        "payload": {
            "order_id": 3,
            "phone": "138****8000",
            "contact": {"leader_phone": "139****1111"},
            "lines": [{"qty": 2}],
        },
    }


def test_signature_and_its_verification() -> None:
    body = rules.body("e1", "team.formed", "2026-12-07T00:00:00+00:00", {"team_id": 1})
    header = rules.signature_header(["whsec_new", "whsec_old"], 1_700_000_000, body)
    assert header.count("v1=") == 2
    assert rules.verify("whsec_new", header, "1700000000", body, now=1_700_000_010)
    assert rules.verify("whsec_old", header, "1700000000", body, now=1_700_000_010)
    assert not rules.verify("whsec_other", header, "1700000000", body, now=1_700_000_010)
    assert not rules.verify("whsec_new", header, "1700000000", body + " ", now=1_700_000_010)
    assert not rules.verify("whsec_new", header, "1700000001", body, now=1_700_000_010)
    # A replayed request: right signature, stale timestamp.
    assert not rules.verify("whsec_new", header, "1700000000", body, now=1_700_000_400)


def test_the_retry_schedule_doubles_with_jitter_up_to_a_cap() -> None:
    minute = timedelta(minutes=1)
    assert rules.delay(1, 0.0) == minute
    assert rules.delay(2, 0.0) == 2 * minute
    assert rules.delay(3, 0.0) == 4 * minute
    assert rules.delay(4, 0.999) < 8 * minute * 1.2
    assert rules.delay(4, 0.5) > 8 * minute
    assert rules.delay(30, 0.0) == rules.MAX_DELAY
    waits = [rules.delay(n, 0.0) for n in range(1, rules.MAX_ATTEMPTS)]
    assert waits == sorted(waits)
    assert rules.MAX_ATTEMPTS == 10
