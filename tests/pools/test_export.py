"""Exports: the leader's order list (CSV, Excel) and the supplier's purchase order (CSV).

The formatting helpers are tested without a database; the downloads over HTTP on both
backends.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from tests.conftest import _auth, audit_violations, run_worker
from tests.pools.conftest import Waves
from tests.pools.support import problem, scalar
from tuangou.core import clock
from tuangou.pools import export

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Excel"
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))


# ---------------------------------------------------------------- pure formatting


def test_times_are_shown_in_the_deployment_zone_to_the_minute() -> None:
    # 15:30:59 UTC is 23:30 in Shanghai; 16:05 UTC is already the next day there.
    assert export.fmt_time(datetime(2024, 5, 1, 15, 30, 59), SHANGHAI) == "2024-05-01 23:30"
    assert export.fmt_time(datetime(2024, 5, 1, 16, 5), SHANGHAI) == "2024-05-02 00:05"
    assert export.fmt_time(datetime(2024, 5, 1, 16, 5), ZoneInfo("UTC")) == "2024-05-01 16:05"
    assert export.fmt_time(None, SHANGHAI) == ""


def test_items_phone_money_and_status_read_as_at_the_counter() -> None:
    assert export.items_text([("苹果", 2, False), ("梨", 1, False)]) == "苹果×2; 梨×1"
    assert export.items_text([("苹果", 2, False), ("梨", 1, True)]) == "苹果×2; 梨×1 (已退)"
    assert export.items_text([("pear", 1, True)], "en") == "pear×1 (refunded)"
    assert export.phone_last4("13812348000") == "8000"
    assert export.phone_last4("138****8000") == "8000"
    assert export.status_label("arrived") == "已到货"
    assert export.status_label("completed", "en") == "picked up"
    assert export.lang_of("fr") == "zh" and export.lang_of("en") == "en"


def _row(**kw: object) -> export.OrderRow:
    values: dict[str, object] = {
        "seq": 1,
        "nickname": "李阿姨",
        "phone": "138****8000",
        "remark": "放门口",
        "paid_at": datetime(2024, 5, 1, 12, 0),
        "items": (("苹果", 2, False), ("梨", 1, False)),
        "amount": 1234,
        "refunded": 5,
        "status": "confirmed",
        "pickup_point": "幸福里自提点",
    }
    values.update(kw)
    return export.OrderRow(**values)  # type: ignore[arg-type]


def test_order_csv_is_utf8_with_bom_and_one_row_per_order() -> None:
    body = export.orders_csv([_row(), _row(seq=2, nickname="张大爷", refunded=0)], SHANGHAI)
    table = parse_csv(body)
    assert table[0] == export.ORDER_HEADERS["zh"]
    assert table[1] == [
        "1",
        "李阿姨",
        "8000",
        "放门口",
        "2024-05-01 20:00",
        "苹果×2; 梨×1",
        "¥12.34",
        "¥0.05",
        "已成团",
        "幸福里自提点",
    ]
    assert table[2][1] == "张大爷" and table[2][7] == "¥0.00"
    assert body.count(b"\r\n") == 3


def test_text_a_member_typed_never_becomes_a_formula() -> None:
    evil = '=HYPERLINK("http://x","点我")'
    table = parse_csv(export.orders_csv([_row(remark=evil, nickname="+1")], SHANGHAI))
    assert table[1][3] == "'" + evil
    assert table[1][1] == "'+1"
    book = load_workbook(io.BytesIO(export.orders_xlsx([_row(remark=evil)], SHANGHAI)))
    sheet = book.active
    assert sheet is not None
    cell = sheet.cell(row=2, column=4)
    assert cell.value == evil and cell.data_type == "s"


def test_order_xlsx_has_numbers_that_add_up_and_local_times() -> None:
    body = export.orders_xlsx([_row(), _row(seq=2, amount=99, refunded=0)], SHANGHAI, "en")
    book = load_workbook(io.BytesIO(body))
    sheet = book.active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == export.ORDER_HEADERS["en"]
    assert values[1][0] == 1 and values[1][2] == "8000"
    assert values[1][4] == datetime(2024, 5, 1, 20, 0)
    assert values[1][5] == "苹果×2; 梨×1"
    assert Decimal(str(values[1][6])) == Decimal("12.34")
    assert Decimal(str(values[1][7])) == Decimal("0.05")
    assert values[1][8] == "confirmed"
    assert Decimal(str(values[2][6])) == Decimal("0.99")
    assert sheet.cell(row=2, column=7).number_format == export.MONEY_FORMAT
    assert sheet.freeze_panes == "A2"


def test_purchase_lines_split_per_pickup_point_then_total_per_sku() -> None:
    po = {
        "items": [
            {"item_id": 1, "sku_id": 11, "title": "苹果", "status": "confirmed",
             "unit_price": 900, "quantity": 5},
            {"item_id": 2, "sku_id": 12, "title": "梨", "status": "cancelled",
             "unit_price": None, "quantity": 0},
        ],
        "pickup_points": [
            {"pickup_point_id": 7, "name": "东门", "address": "东路 1 号",
             "items": [{"item_id": 1, "quantity": 3}]},
            {"pickup_point_id": 8, "name": "西门", "address": "西路 2 号",
             "items": [{"item_id": 1, "quantity": 2}]},
        ],
    }  # fmt: skip
    lines = export.purchase_lines(po)
    assert [(x.pickup_point, x.title, x.quantity, x.amount) for x in lines] == [
        ("东门", "苹果", 3, 2700),
        ("西门", "苹果", 2, 1800),
        ("合计", "苹果", 5, 4500),
        ("合计", "梨", 0, 0),
        ("合计", "全部商品", 5, 4500),
    ]
    table = parse_csv(export.purchase_order_csv(po))
    assert table[0] == export.PO_HEADERS["zh"]
    assert table[1] == ["东门", "东路 1 号", "苹果", "11", "已成团", "3", "¥9.00", "¥27.00"]
    assert table[4][4] == "未成团" and table[4][6] == ""
    assert table[-1][-1] == "¥45.00"


# ---------------------------------------------------------------- over HTTP


def _phone(user_id: str | int) -> str:
    return str(scalar("SELECT phone FROM users WHERE id = :u", u=int(user_id)))


def test_a_leader_exports_their_listing_for_the_pickup_counter(waves: Waves) -> None:
    apples, pears = waves.sku(title="苹果"), waves.sku(title="梨")
    leader = waves.leader("周团长")
    page = waves.publish(
        leader,
        [
            {"sku_id": apples, "price": 1000, "moq": 3, "stock": 100, "title": "苹果",
             "tiers": [[3, 900]]},
            {"sku_id": pears, "price": 800, "moq": 10, "stock": 100, "title": "梨"},
        ],
    )  # fmt: skip
    listing = page["listing"]["id"]
    apple, pear = (i["item_id"] for i in page["items"])
    aunt, uncle, late = (waves.member(leader, n) for n in ("李阿姨", "张大爷", "陈小姐"))
    waves.order(aunt, listing, {apple: 2, pear: 1}, remark="放门口, 谢谢")
    waves.order(uncle, listing, {apple: 1})
    waves.order(late, listing, {apple: 1}, pay=False)  # never paid: not exported

    r = waves.c.get(f"/api/leader/listings/{listing}/orders.csv", headers=_auth(leader))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    table = parse_csv(r.content)
    assert table[0] == export.ORDER_HEADERS["zh"]
    assert [row[0] for row in table[1:]] == ["1", "2"]
    first = dict(zip(table[0], table[1], strict=True))
    assert first["昵称"] == "李阿姨"
    assert first["手机尾号"] == _phone(aunt["user_id"])[-4:]
    assert first["备注"] == "放门口, 谢谢"
    assert first["商品"] == "苹果×2; 梨×1"
    assert first["金额"] == "¥28.00" and first["已退款"] == "¥0.00"
    assert first["状态"] == "已支付"
    assert first["提货点"] == "周团长的自提点"
    paid_at = datetime.strptime(first["支付时间"], "%Y-%m-%d %H:%M")
    local_now = datetime.now(SHANGHAI).replace(tzinfo=None) + clock.offset()
    assert abs(local_now - paid_at) < timedelta(hours=1)  # shown in Shanghai time, not UTC
    # The whole phone number never leaves the platform.
    for who in (aunt, uncle):
        assert _phone(who["user_id"]).encode() not in r.content

    # After the cut-off: pears (1 of 10) refunded, apples at the tier price 900.
    clock.advance(timedelta(hours=4))
    run_worker()
    table = parse_csv(
        waves.c.get(f"/api/leader/listings/{listing}/orders.csv", headers=_auth(leader)).content
    )
    first = dict(zip(table[0], table[1], strict=True))
    assert first["商品"] == "苹果×2; 梨×1 (已退)"
    assert first["已退款"] == "¥10.00"  # 800 for the pear + 2 × 100 price protection
    assert first["状态"] == "已成团"

    r = waves.c.get(f"/api/leader/listings/{listing}/orders.xlsx?lang=en", headers=_auth(leader))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == export.XLSX_MEDIA
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == export.ORDER_HEADERS["en"]
    assert [v[0] for v in values[1:]] == [1, 2]
    assert values[1][1] == "李阿姨" and values[1][5] == "苹果×2; 梨×1 (refunded)"
    assert Decimal(str(values[1][6])) == Decimal("28.00")
    assert Decimal(str(values[1][7])) == Decimal("10.00")
    assert values[2][8] == "confirmed"
    assert audit_violations() == []


def test_only_the_listings_leader_may_export_it(waves: Waves) -> None:
    apples = waves.sku()
    leader, other = waves.leader("周团长"), waves.leader("吴团长")
    page = waves.publish(leader, [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 10}])
    listing = page["listing"]["id"]
    member = waves.member(leader)
    waves.order(member, listing, {page["items"][0]["item_id"]: 1})
    for suffix in ("csv", "xlsx"):
        url = f"/api/leader/listings/{listing}/orders.{suffix}"
        problem(waves.c.get(url, headers=_auth(other)), 404, "listing_not_found")
        problem(waves.c.get(url, headers=_auth(member)), 403, "not_a_leader")
        problem(waves.c.get(url), 401, "unauthenticated")
    problem(
        waves.c.get("/api/leader/listings/999999/orders.csv", headers=_auth(leader)),
        404,
        "listing_not_found",
    )


def test_the_supplier_downloads_the_purchase_order_split_per_pickup_point(waves: Waves) -> None:
    apples, pears = waves.sku(title="苹果"), waves.sku(title="梨")
    r = waves.c.post(
        "/api/supplier/waves",
        json={
            "title": "明日达 · 产地直发",
            "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
            "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
            "commission_bps": 1200,
            "items": [
                {"sku_id": apples, "price": 1000, "moq": 3, "stock": 100, "title": "苹果",
                 "tiers": [[4, 900]]},
                {"sku_id": pears, "price": 800, "moq": 50, "stock": 100, "title": "梨"},
            ],
        },
        headers=waves.supplier,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    wave_id = r.json()["id"]
    apple, pear = (i["item_id"] for i in r.json()["items"])
    east, west = waves.leader("东门团长"), waves.leader("西门团长")
    listings = {}
    for leader in (east, west):
        r = waves.c.post(
            f"/api/leader/waves/{wave_id}/adopt",
            json={"community_id": leader["community_id"],
                  "pickup_point_id": leader["pickup_point_id"]},
            headers=_auth(leader),
        )  # fmt: skip
        assert r.status_code == 201, r.text
        listings[leader["leader_id"]] = r.json()["listing"]["id"]
    waves.order(waves.member(east), listings[east["leader_id"]], {apple: 2, pear: 1})
    waves.order(waves.member(east), listings[east["leader_id"]], {apple: 1})
    waves.order(waves.member(west), listings[west["leader_id"]], {apple: 2})
    clock.advance(timedelta(hours=4))
    run_worker()

    url = f"/api/supplier/waves/{wave_id}/purchase-order.csv"
    r = waves.c.get(url, headers=waves.supplier)
    assert r.status_code == 200, r.text
    table = parse_csv(r.content)
    assert table[0] == export.PO_HEADERS["zh"]
    body = [(row[0], row[2], row[5], row[6], row[7]) for row in table[1:]]
    assert body == [
        ("东门团长的自提点", "苹果", "3", "¥9.00", "¥27.00"),
        ("西门团长的自提点", "苹果", "2", "¥9.00", "¥18.00"),
        ("合计", "苹果", "5", "¥9.00", "¥45.00"),
        ("合计", "梨", "0", "", "¥0.00"),
        ("合计", "全部商品", "5", "", "¥45.00"),
    ]
    # The JSON purchase order says the same.
    po = waves.c.get(f"/api/supplier/waves/{wave_id}/purchase-order", headers=waves.supplier)
    assert [i["quantity"] for i in po.json()["items"]] == [5, 0]

    assert waves.c.get(url, headers=waves.op).status_code == 200
    _, stranger = waves.api.supplier(waves.op, name="别家果园")
    problem(waves.c.get(url, headers=stranger), 404, "wave_not_found")
    problem(waves.c.get(url, headers=_auth(east)), 403, "forbidden")
    problem(waves.c.get("/api/supplier/waves/999999/purchase-order.csv", headers=waves.supplier),
            404, "wave_not_found")  # fmt: skip
    assert audit_violations() == []
