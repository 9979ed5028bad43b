"""Signed outgoing webhooks: operators' own systems hear of the platform's events."""
