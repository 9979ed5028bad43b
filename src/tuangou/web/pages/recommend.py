"""The 猜你喜欢 row of the member's home page and of the order page (after ordering): what
``recommend.recommend`` ranks, as cards. A failure here never fails the page: the row is
left out and the error logged."""

from __future__ import annotations

import logging
from typing import Any

from tuangou.accounts.rules import may_buy
from tuangou.accounts.service import Principal
from tuangou.core.db import unit_of_work
from tuangou.recommend import service as recommend

log = logging.getLogger(__name__)


def row(who: Principal, context: str = "home", order_id: int | None = None) -> dict[str, Any]:
    """The row's cards, its source and the model's version (empty for staff, who cannot buy,
    and when nothing is orderable)."""
    if not may_buy(who.role):
        return {"items": []}
    try:
        with unit_of_work(readonly=True) as db:
            found = recommend.recommend(
                db,
                who.user_id,
                context=recommend.parse_context(context),
                order_id=order_id,
                limit=6,
            )
    except Exception:
        log.exception("the recommendations row failed; the page is shown without it")
        return {"items": []}
    return {
        "context": found.context.value,
        "source": found.source.value,
        "model_version": found.model_version,
        "items": found.items,
    }
