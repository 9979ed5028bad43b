"""The worker's job for message channels."""

from __future__ import annotations

from tuangou.notifications import channels


def send_due() -> int:
    """Send the text, WeChat and e-mail messages that are due (at most a batch a round)."""
    return channels.send_due()
