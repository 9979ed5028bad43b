from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tuangou.api.deps import MaybeCaller
from tuangou.core.db import unit_of_work
from tuangou.search import rules
from tuangou.search import service as search
from tuangou.search.schemas import SearchHitOut, SearchOut

router = APIRouter(tags=["search"])


@router.get("/search")
def find(
    who: MaybeCaller,
    q: Annotated[str, Query(max_length=rules.MAX_QUERY, description="words to look for")] = "",
    category: Annotated[int | None, Query(ge=1, description="a category's id")] = None,
) -> SearchOut:
    """Live team buys, and the open waves of your communities, holding every word of ``q``
    (Chinese needs no spaces: 苹果 finds 红富士苹果) and in ``category``. Without a log-in:
    the team buys only."""
    operator = who is not None and who.role == "operator"
    with unit_of_work(readonly=True) as session:
        hits = search.search(
            session,
            user_id=who.user_id if who is not None else None,
            query=q,
            category_id=category,
            operator=operator,
        )
        return SearchOut(
            query=q.strip(), category=category, results=[SearchHitOut.of(h) for h in hits]
        )
