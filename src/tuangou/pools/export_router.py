"""Downloads: a leader's orders of a listing (CSV, Excel) and a supplier's purchase order (CSV)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from tuangou.api.deps import Caller
from tuangou.core.db import unit_of_work
from tuangou.core.paging import MAX_CURSOR, MAX_LIMIT
from tuangou.core.schemas import file_responses
from tuangou.pools import export
from tuangou.pools.schemas import ListingOrderOut, ListingOrdersOut

router = APIRouter(tags=["exports"])


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",  # personal data: never kept by a proxy
        },
    )


@router.get("/leader/listings/{listing_id}/orders", tags=["leaders"])
def listing_orders(
    listing_id: int,
    who: Caller,
    cursor: str | None = Query(default=None, max_length=MAX_CURSOR),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT),
) -> ListingOrdersOut:
    """Your community's paid orders of a wave in chain order (跟团号), a page at a time:
    pass the ``next_cursor`` of the page before."""
    with unit_of_work(readonly=True) as session:
        rows, after = export.listing_order_page(
            session, user_id=who.user_id, listing_id=listing_id, cursor=cursor, limit=limit
        )
    return ListingOrdersOut.model_construct(
        items=[ListingOrderOut.of(r) for r in rows], next_cursor=after
    )


@router.get(
    "/leader/listings/{listing_id}/orders.csv",
    tags=["leaders"],
    response_class=Response,
    responses=file_responses(export.CSV_MEDIA, description="UTF-8 CSV"),
)
def listing_orders_csv(listing_id: int, who: Caller, lang: str = "zh") -> Response:
    """Your community's orders of a wave, for the pickup counter (UTF-8 CSV for Excel)."""
    with unit_of_work(readonly=True) as session:
        rows = export.listing_order_rows(session, user_id=who.user_id, listing_id=listing_id)
    body = export.orders_csv(rows, export.zone(), export.lang_of(lang))
    return _download(body, export.CSV_MEDIA, f"listing-{listing_id}-orders.csv")


@router.get(
    "/leader/listings/{listing_id}/orders.xlsx",
    tags=["leaders"],
    response_class=Response,
    responses=file_responses(export.XLSX_MEDIA, description="An Excel workbook"),
)
def listing_orders_xlsx(listing_id: int, who: Caller, lang: str = "zh") -> Response:
    """The same orders as an Excel workbook (amounts as numbers that add up)."""
    with unit_of_work(readonly=True) as session:
        rows = export.listing_order_rows(session, user_id=who.user_id, listing_id=listing_id)
    body = export.orders_xlsx(rows, export.zone(), export.lang_of(lang))
    return _download(body, export.XLSX_MEDIA, f"listing-{listing_id}-orders.xlsx")


@router.get(
    "/supplier/waves/{wave_id}/purchase-order.csv",
    tags=["supplier"],
    response_class=Response,
    responses=file_responses(export.CSV_MEDIA, description="UTF-8 CSV"),
)
def purchase_order_csv(wave_id: int, who: Caller, lang: str = "zh") -> Response:
    """The wave's purchase order: one row per pickup point × SKU, then the totals."""
    with unit_of_work(readonly=True) as session:
        po = export.supplier_purchase_order(
            session, role=who.role, supplier_id=who.supplier_id, wave_id=wave_id
        )
    body = export.purchase_order_csv(po, export.lang_of(lang))
    return _download(body, export.CSV_MEDIA, f"wave-{wave_id}-purchase-order.csv")
