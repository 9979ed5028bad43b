"""Exports of a wave: a leader's order list (CSV and Excel) and the supplier's purchase order.

The leader's list is what the pickup counter needs: 跟团号, nickname, the last four digits of
the phone, the remark, when it was paid (in the deployment's time zone), the items, the
amount, what was refunded, the status and the pickup point. CSV files are UTF-8 with a byte
order mark, so that Excel opens the Chinese text correctly.

The formatting helpers at the top are pure (no database): they take plain values.
Text a member typed (a nickname, a remark) never becomes a spreadsheet formula: in CSV a
leading ``= + - @`` is escaped with an apostrophe, and in .xlsx every text cell is a string.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from tuangou.communities import service as communities
from tuangou.core.config import get_settings
from tuangou.core.errors import Forbidden
from tuangou.core.money import fmt as yuan
from tuangou.pools import service as pools
from tuangou.pools.errors import ListingNotFound, WaveNotFound

Cell = str | int | Decimal | datetime | None

LANGS = ("zh", "en")

ORDER_HEADERS = {
    "zh": [
        "跟团号",
        "昵称",
        "手机尾号",
        "备注",
        "支付时间",
        "商品",
        "金额",
        "已退款",
        "状态",
        "提货点",
    ],
    "en": [
        "No.",
        "Nickname",
        "Phone (last 4)",
        "Remark",
        "Paid at",
        "Items",
        "Amount",
        "Refunded",
        "Status",
        "Pickup point",
    ],
}

STATUS_LABELS = {
    "zh": {
        "pending_payment": "待支付",
        "paid": "已支付",
        "confirmed": "已成团",
        "shipped": "已发货",
        "arrived": "已到货",
        "completed": "已提货",
        "refunded": "已退款",
        "cancelled": "已取消",
    },
    "en": {
        "pending_payment": "awaiting payment",
        "paid": "paid",
        "confirmed": "confirmed",
        "shipped": "shipped",
        "arrived": "arrived",
        "completed": "picked up",
        "refunded": "refunded",
        "cancelled": "cancelled",
    },
}

REFUNDED_LINE = {"zh": "已退", "en": "refunded"}

PO_HEADERS = {
    "zh": ["提货点", "地址", "商品", "SKU", "状态", "数量", "单价", "金额"],
    "en": ["Pickup point", "Address", "Item", "SKU", "Status", "Quantity", "Unit price", "Amount"],
}
PO_TOTAL = {"zh": "合计", "en": "Total"}
PO_ALL = {"zh": "全部商品", "en": "All items"}
ITEM_STATUS = {
    "zh": {"open": "待截单", "confirmed": "已成团", "cancelled": "未成团"},
    "en": {"open": "open", "confirmed": "confirmed", "cancelled": "below MOQ"},
}

CSV_MEDIA = "text/csv; charset=utf-8"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------- pure formatting


def lang_of(value: str | None) -> str:
    """``zh`` (the default) or ``en``."""
    return value if value in LANGS else "zh"


def zone(name: str | None = None) -> tzinfo:
    return ZoneInfo(name or get_settings().timezone)


def local_time(value: datetime | None, tz: tzinfo) -> datetime | None:
    """A stored naive-UTC time as a naive wall-clock time in ``tz`` (minutes precision)."""
    if value is None:
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


def fmt_time(value: datetime | None, tz: tzinfo) -> str:
    """``YYYY-MM-DD HH:MM`` in ``tz``; empty for no time."""
    local = local_time(value, tz)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def phone_last4(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-4:]


def items_text(items: Sequence[tuple[str, int, bool]], lang: str = "zh") -> str:
    """``苹果×2; 梨×1 (已退)``: (title, quantity, refunded) per line, in order."""
    parts = []
    for title, quantity, refunded in items:
        text = f"{title}×{quantity}"
        if refunded:
            text += f" ({REFUNDED_LINE[lang]})"
        parts.append(text)
    return "; ".join(parts)


def status_label(status: str, lang: str = "zh") -> str:
    return STATUS_LABELS[lang].get(status, status)


def safe_text(value: str) -> str:
    """Text that a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


@dataclass(frozen=True)
class OrderRow:
    """One paid order of a listing, as the leader's export shows it."""

    seq: int | None
    nickname: str
    phone: str
    remark: str
    paid_at: datetime | None  # naive UTC, as stored
    items: tuple[tuple[str, int, bool], ...]  # (title, quantity, refunded)
    amount: int  # fen
    refunded: int  # fen
    status: str
    pickup_point: str


def order_cells(row: OrderRow, tz: tzinfo, lang: str = "zh") -> list[str]:
    """The row's cells as text, in :data:`ORDER_HEADERS` order (the CSV form)."""
    return [
        "" if row.seq is None else str(row.seq),
        row.nickname,
        phone_last4(row.phone),
        row.remark,
        fmt_time(row.paid_at, tz),
        items_text(row.items, lang),
        yuan(row.amount),
        yuan(row.refunded),
        status_label(row.status, lang),
        row.pickup_point,
    ]


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte order mark (Excel then reads Chinese correctly), CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_text(c) if isinstance(c, str) else c for c in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


MONEY_FORMAT = '"¥"#,##0.00'
TIME_FORMAT = "yyyy-mm-dd hh:mm"


def fen_to_yuan(fen: int) -> Decimal:
    """An exact decimal of yuan, for a spreadsheet number cell (never a float)."""
    return Decimal(fen) / 100


def xlsx_bytes(
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str = "orders",
    money_columns: Sequence[int] = (),
    widths: Sequence[int] = (),
) -> bytes:
    """An .xlsx workbook of one sheet: a bold, frozen header row; money columns (0-based)
    as yuan numbers formatted ¥0.00 (they add up in Excel); times as date cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    money = set(money_columns)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, str):
                cell.value = value
                cell.data_type = "s"  # never a formula, whatever a member typed
            elif isinstance(value, datetime):
                cell.value = value
                cell.number_format = TIME_FORMAT
            elif isinstance(value, int) and (c - 1) in money:
                cell.value = fen_to_yuan(value)
                cell.number_format = MONEY_FORMAT
            else:
                cell.value = value
    sheet.freeze_panes = "A2"
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ORDER_WIDTHS = (8, 14, 10, 24, 17, 36, 10, 10, 10, 20)


def orders_csv(rows: Sequence[OrderRow], tz: tzinfo, lang: str = "zh") -> bytes:
    return csv_bytes(ORDER_HEADERS[lang], [order_cells(r, tz, lang) for r in rows])


def orders_xlsx(rows: Sequence[OrderRow], tz: tzinfo, lang: str = "zh") -> bytes:
    cells: list[list[Cell]] = [
        [
            row.seq,
            row.nickname,
            phone_last4(row.phone),
            row.remark,
            local_time(row.paid_at, tz),
            items_text(row.items, lang),
            row.amount,
            row.refunded,
            status_label(row.status, lang),
            row.pickup_point,
        ]
        for row in rows
    ]
    return xlsx_bytes(
        ORDER_HEADERS[lang],
        cells,
        title="跟团订单" if lang == "zh" else "orders",
        money_columns=(6, 7),
        widths=ORDER_WIDTHS,
    )


@dataclass(frozen=True)
class PurchaseLine:
    """One row of a purchase order: a pickup point's quantity of one SKU (or a total)."""

    pickup_point: str
    address: str
    title: str
    sku_id: int | None
    status: str
    quantity: int
    unit_price: int | None
    amount: int


def purchase_lines(po: dict[str, Any], lang: str = "zh") -> list[PurchaseLine]:
    """The rows of :func:`tuangou.pools.service.purchase_order`'s result: one per pickup
    point × SKU (quantity > 0), then one total per SKU, then the grand total."""
    items = {int(i["item_id"]): i for i in po["items"]}
    lines: list[PurchaseLine] = []
    for point in po["pickup_points"]:
        for entry in point["items"]:
            item = items[int(entry["item_id"])]
            quantity = int(entry["quantity"])
            if quantity <= 0:
                continue
            unit = item["unit_price"]
            lines.append(
                PurchaseLine(
                    pickup_point=str(point["name"]),
                    address=str(point["address"]),
                    title=str(item["title"]),
                    sku_id=int(item["sku_id"]),
                    status=ITEM_STATUS[lang].get(str(item["status"]), str(item["status"])),
                    quantity=quantity,
                    unit_price=unit,
                    amount=(unit or 0) * quantity,
                )
            )
    total_qty = total_amount = 0
    for item in items.values():
        unit = item["unit_price"]
        quantity = int(item["quantity"])
        amount = (unit or 0) * quantity
        total_qty += quantity
        total_amount += amount
        lines.append(
            PurchaseLine(
                pickup_point=PO_TOTAL[lang],
                address="",
                title=str(item["title"]),
                sku_id=int(item["sku_id"]),
                status=ITEM_STATUS[lang].get(str(item["status"]), str(item["status"])),
                quantity=quantity,
                unit_price=unit,
                amount=amount,
            )
        )
    lines.append(
        PurchaseLine(PO_TOTAL[lang], "", PO_ALL[lang], None, "", total_qty, None, total_amount)
    )
    return lines


def purchase_order_csv(po: dict[str, Any], lang: str = "zh") -> bytes:
    return csv_bytes(
        PO_HEADERS[lang],
        [
            [
                line.pickup_point,
                line.address,
                line.title,
                "" if line.sku_id is None else str(line.sku_id),
                line.status,
                str(line.quantity),
                "" if line.unit_price is None else yuan(line.unit_price),
                yuan(line.amount),
            ]
            for line in purchase_lines(po, lang)
        ],
    )


# ---------------------------------------------------------------- reading the database


class NotYourListing(ListingNotFound):
    """Another leader's listing (only its leader exports its orders): answered exactly as a
    missing one (404), so ids reveal nothing."""


class NotYourWave(WaveNotFound):
    """Another supplier's wave: answered exactly as a missing one (404)."""


def _own_listing(session: Session, user_id: int, listing_id: int) -> Any:
    leader = communities.get_leader_by_user(session, user_id)
    listing = pools.get_listing(session, listing_id)
    if listing.leader_id != leader.id:
        raise NotYourListing()
    return listing


def listing_order_rows(session: Session, *, user_id: int, listing_id: int) -> list[OrderRow]:
    """The paid orders of a listing, in chain order, for its leader only."""
    listing = _own_listing(session, user_id, listing_id)
    found = pools.wave_orders(session, listing.wave_id, listing_id=listing.id)
    return _order_rows(session, listing, found)


def listing_order_page(
    session: Session, *, user_id: int, listing_id: int, cursor: str | None, limit: int
) -> tuple[list[OrderRow], str | None]:
    """One page of :func:`listing_order_rows` (by 跟团号), and the next page's cursor."""
    listing = _own_listing(session, user_id, listing_id)
    found, after = pools.listing_orders_page(
        session, listing.id, listing.wave_id, cursor=cursor, limit=limit
    )
    return _order_rows(session, listing, found), after


def _order_rows(session: Session, listing: Any, found: list[Any]) -> list[OrderRow]:
    titles = {i.id: i.title for i in pools.items_of(session, listing.wave_id)}
    who = communities.people(session, [order.user_id for _, order, _ in found])
    points: dict[int, str] = {}
    rows = []
    for info, order, lines in found:
        if info.pickup_point_id not in points:
            points[info.pickup_point_id] = communities.get_pickup_point(
                session, info.pickup_point_id
            ).name
        person = who[order.user_id]
        rows.append(
            OrderRow(
                seq=info.seq,
                nickname=person.nickname,
                phone=person.masked_phone,  # the last four digits are all that is shown
                remark=info.remark,
                paid_at=order.paid_at,
                items=tuple(
                    (
                        titles.get(line.item_id, ""),
                        line.quantity,
                        line.status == pools.LineStatus.REFUNDED,
                    )
                    for line in lines
                ),
                amount=order.amount,
                refunded=order.refunded_amount,
                status=order.status,
                pickup_point=points[info.pickup_point_id],
            )
        )
    return rows


def supplier_purchase_order(
    session: Session, *, role: str, supplier_id: int | None, wave_id: int
) -> dict[str, Any]:
    """The purchase order of a wave, for its supplier (or an operator)."""
    if role not in ("supplier", "operator"):  # before any look-up
        raise Forbidden("purchase orders are for the supplier and operators")
    wave = pools.get_wave(session, wave_id)
    if role == "supplier" and supplier_id != wave.supplier_id:
        raise NotYourWave()
    return pools.purchase_order(session, wave_id)
