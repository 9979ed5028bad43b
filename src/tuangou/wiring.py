"""The composition root: import every module that registers outbox handlers or order kinds."""

from __future__ import annotations


def load() -> None:
    import tuangou.notifications.service
    import tuangou.payments.tasks
    import tuangou.pools.service
    import tuangou.teams.service  # noqa: F401  (order kind "team")


def load_models() -> None:
    """Every table, so that the metadata (and Alembic) sees the whole schema."""
    import tuangou.accounts.models
    import tuangou.aftersales.models
    import tuangou.catalog.models
    import tuangou.communities.models
    import tuangou.core.models
    import tuangou.fulfilment.models
    import tuangou.ledger.models
    import tuangou.notifications.models
    import tuangou.orders.models
    import tuangou.payments.models
    import tuangou.pools.models
    import tuangou.teams.models  # noqa: F401
