"""The worker's job for outgoing webhooks."""

from __future__ import annotations

from tuangou.webhooks import service


def send_due() -> int:
    """Send the deliveries that are due (at most a batch a round)."""
    return service.send_due()
