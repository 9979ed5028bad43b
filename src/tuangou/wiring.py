"""The composition root: import every module that registers outbox handlers or order kinds."""

from __future__ import annotations


def load() -> None:
    import tuangou.notifications.service  # noqa: F401  (outbox: inbox messages)
    import tuangou.payments.tasks  # noqa: F401  (outbox: refunds to the gateway)
    import tuangou.pools.service  # noqa: F401  (order kind "wave")
    import tuangou.teams.service  # noqa: F401  (order kind "team")


def load_models() -> None:
    """Every table, so that the metadata (and Alembic) sees the whole schema."""
    import tuangou.accounts.models  # noqa: F401
    import tuangou.aftersales.models  # noqa: F401
    import tuangou.catalog.models  # noqa: F401
    import tuangou.communities.models  # noqa: F401
    import tuangou.core.models  # noqa: F401
    import tuangou.fulfilment.models  # noqa: F401
    import tuangou.ledger.models  # noqa: F401
    import tuangou.notifications.models  # noqa: F401
    import tuangou.orders.models  # noqa: F401
    import tuangou.payments.models  # noqa: F401
    import tuangou.pools.models  # noqa: F401
    import tuangou.teams.models  # noqa: F401
