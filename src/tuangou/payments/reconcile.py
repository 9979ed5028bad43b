"""Reconciliation (对账): a gateway's statement file against our payments and refunds.

Statements, as each gateway provides them:

- **WeChat Pay trade bill** (交易账单, ``bill_type=ALL``), CSV in UTF-8: a header row, one row
  per payment or refund with every field prefixed by a backtick, then a summary header
  (``总交易单数,…``) and its row. Columns used: 交易时间, 商户订单号, 微信订单号, 交易状态
  (``SUCCESS`` a payment, ``REFUND`` a refund), 订单金额 (else 应结订单金额), 商户退款单号,
  申请退款金额 (else 退款金额).
- **Alipay business detail** (业务明细), CSV in GBK: ``#`` comment lines before and after (the
  account, 起始日期 … 终止日期, totals), a header row, one row per payment or refund, cells
  padded with tabs. Columns used: 支付宝交易号, 商户订单号, 业务类型 (``交易`` a payment,
  ``退款`` a refund), 完成时间, 订单金额（元） (a refund's is its amount, negative), and
  退款批次号/请求号.

Our side is the payments that succeeded through that gateway (each journaled once as
``pay:<id>`` with its amount, in the same transaction) and the refunds the gateway accepted
(``gateway_refunds``). Lines of the statement are looked up among all of ours; ours are
expected on the statement when they fall within its days (Beijing time).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.payments.models import GatewayRefund, Payment
from tuangou.payments.rules import PaymentStatus, fen, refund_key_in

BEIJING = ZoneInfo("Asia/Shanghai")
GATEWAYS = ("wechat", "alipay")


class StatementError(ValueError):
    """The file is not a statement of that gateway."""


@dataclass(frozen=True)
class Line:
    """One payment or refund on a statement (amounts in fen, a refund's positive)."""

    kind: str  # payment | refund
    ref: str
    txn_id: str
    amount: int
    day: date
    refund_key: str | None = None


@dataclass(frozen=True)
class Statement:
    lines: list[Line]
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Mismatch:
    """``missing_ours`` (on the statement, not with us), ``missing_theirs`` (ours, not on
    the statement), ``amount_differs`` (a payment), ``refund_differs`` (a refund)."""

    problem: str
    ref: str
    refund_key: str | None
    ours: int | None
    theirs: int | None


# ---------------------------------------------------------------- reading statements


def _cells(row: list[str]) -> list[str]:
    return [cell.strip().strip("\t").strip().removeprefix("`") for cell in row]


def _day(text: str) -> date:
    try:
        return datetime.strptime(text.strip()[:19], "%Y-%m-%d %H:%M:%S").date()
    except ValueError:
        raise StatementError(f"not a time: {text!r}") from None


def read_wechat(data: bytes) -> Statement:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StatementError("not a WeChat Pay trade bill: not UTF-8") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or "商户订单号" not in rows[0]:
        raise StatementError("not a WeChat Pay trade bill: no 商户订单号 in the header")
    header = _cells(rows[0])
    col = {name: i for i, name in enumerate(header)}
    for need in ("交易时间", "商户订单号", "微信订单号", "交易状态"):
        if need not in col:
            raise StatementError(f"the trade bill has no {need} column")
    total_col = col.get("订单金额", col.get("应结订单金额"))
    refund_col = col.get("申请退款金额", col.get("退款金额"))
    if total_col is None or refund_col is None or "商户退款单号" not in col:
        raise StatementError("the trade bill has no amount or refund columns")
    lines = []
    for raw in rows[1:]:
        if not raw or not "".join(raw).strip():
            continue
        cells = _cells(raw)
        if cells[0].startswith("总交易单数") or cells[0].startswith("总"):
            break  # the summary rows
        if len(cells) < len(header):
            raise StatementError(f"a short row: {raw!r}")
        state = cells[col["交易状态"]]
        try:
            if state == "REFUND":
                key = cells[col["商户退款单号"]]
                lines.append(
                    Line(
                        "refund",
                        cells[col["商户订单号"]],
                        cells[col["微信订单号"]],
                        abs(fen(cells[refund_col])),
                        _day(cells[col["交易时间"]]),
                        refund_key_in(key),
                    )
                )
            elif state == "SUCCESS":
                lines.append(
                    Line(
                        "payment",
                        cells[col["商户订单号"]],
                        cells[col["微信订单号"]],
                        fen(cells[total_col]),
                        _day(cells[col["交易时间"]]),
                    )
                )
        except ValueError as exc:
            raise StatementError(str(exc)) from None
    return _statement(lines, None, None)


_ALIPAY_PERIOD = re.compile(
    r"起始日期：\[(\d{4})年(\d{2})月(\d{2})日.*终止日期：\[(\d{4})年(\d{2})月(\d{2})日"
)


def read_alipay(data: bytes) -> Statement:
    try:
        text = data.decode("gbk")
    except UnicodeDecodeError:
        text = data.decode("utf-8-sig")
    first = last = None
    body = []
    for line in text.splitlines():
        if line.startswith("#"):
            found = _ALIPAY_PERIOD.search(line)
            if found:
                y1, m1, d1, y2, m2, d2 = (int(g) for g in found.groups())
                first = date(y1, m1, d1)
                # 终止日期 is the end of the period, exclusive at midnight.
                end = datetime(y2, m2, d2)
                last = (end - timedelta(seconds=1)).date() if "00:00:00" in line else end.date()
            continue
        if line.strip():
            body.append(line)
    rows = [_cells(r) for r in csv.reader(io.StringIO("\n".join(body)))]
    if not rows or "商户订单号" not in rows[0]:
        raise StatementError("not an Alipay business detail: no 商户订单号 in the header")
    col = {name: i for i, name in enumerate(rows[0])}
    for need in ("支付宝交易号", "商户订单号", "业务类型", "完成时间", "订单金额（元）"):
        if need not in col:
            raise StatementError(f"the business detail has no {need} column")
    refund_no = col.get("退款批次号/请求号")
    lines = []
    for cells in rows[1:]:
        if len(cells) < len(col):
            raise StatementError(f"a short row: {cells!r}")
        kind = cells[col["业务类型"]]
        try:
            amount = fen(cells[col["订单金额（元）"]])
            if kind == "交易":
                lines.append(
                    Line(
                        "payment",
                        cells[col["商户订单号"]],
                        cells[col["支付宝交易号"]],
                        amount,
                        _day(cells[col["完成时间"]]),
                    )
                )
            elif kind == "退款":
                key = cells[refund_no] if refund_no is not None else ""
                lines.append(
                    Line(
                        "refund",
                        cells[col["商户订单号"]],
                        cells[col["支付宝交易号"]],
                        abs(amount),
                        _day(cells[col["完成时间"]]),
                        refund_key_in(key),
                    )
                )
        except ValueError as exc:
            raise StatementError(str(exc)) from None
    return _statement(lines, first, last)


def _statement(lines: list[Line], first: date | None, last: date | None) -> Statement:
    days = [line.day for line in lines]
    if first is None or last is None:
        if not days:
            raise StatementError("the statement has no lines and no period")
        first, last = min(days), max(days)
    return Statement(lines, first, last)


def read(gateway: str, data: bytes) -> Statement:
    if gateway == "wechat":
        return read_wechat(data)
    if gateway == "alipay":
        return read_alipay(data)
    raise StatementError(f"unknown gateway {gateway!r}")


# ---------------------------------------------------------------- comparing


def _utc_naive(day: date) -> datetime:
    start = datetime(day.year, day.month, day.day, tzinfo=BEIJING)
    return clock.as_utc(start).replace(tzinfo=None)


def reconcile(session: Session, gateway: str, statement: Statement) -> list[Mismatch]:
    """Every difference between the statement and our records, payments first."""
    start = _utc_naive(statement.first_day)
    end = _utc_naive(statement.last_day + timedelta(days=1))
    theirs_pay: dict[str, int] = {}
    theirs_refund: dict[str, tuple[str, int]] = {}
    for line in statement.lines:
        if line.kind == "payment":
            theirs_pay[line.ref] = theirs_pay.get(line.ref, 0) + line.amount
        else:
            ref, total = theirs_refund.get(line.refund_key or line.txn_id, (line.ref, 0))
            theirs_refund[line.refund_key or line.txn_id] = (ref, total + line.amount)
    paid = select(Payment.gateway_ref, Payment.amount).where(
        Payment.gateway == gateway, Payment.status == PaymentStatus.SUCCEEDED
    )
    ours_pay = {
        ref: amount
        for ref, amount in session.execute(
            paid.where(Payment.gateway_ref.in_(list(theirs_pay) or [""]))
        )
    }
    in_period = {
        ref: amount
        for ref, amount in session.execute(
            paid.where(Payment.updated_at >= start, Payment.updated_at < end)
        )
    }
    refunds = select(GatewayRefund.key, GatewayRefund.ref, GatewayRefund.amount).where(
        GatewayRefund.gateway == gateway
    )
    ours_refund = {
        key: (ref, amount)
        for key, ref, amount in session.execute(
            refunds.where(GatewayRefund.key.in_(list(theirs_refund) or [""]))
        )
    }
    refunds_in_period = {
        key: (ref, amount)
        for key, ref, amount in session.execute(
            refunds.where(GatewayRefund.created_at >= start, GatewayRefund.created_at < end)
        )
    }
    found: list[Mismatch] = []
    for ref, amount in sorted(theirs_pay.items()):
        if ref not in ours_pay:
            found.append(Mismatch("missing_ours", ref, None, None, amount))
        elif ours_pay[ref] != amount:
            found.append(Mismatch("amount_differs", ref, None, ours_pay[ref], amount))
    for ref, amount in sorted(in_period.items()):
        if ref not in theirs_pay:
            found.append(Mismatch("missing_theirs", ref, None, amount, None))
    for key, (ref, amount) in sorted(theirs_refund.items()):
        if key not in ours_refund:
            found.append(Mismatch("missing_ours", ref, key, None, amount))
        elif ours_refund[key][1] != amount:
            found.append(Mismatch("refund_differs", ref, key, ours_refund[key][1], amount))
    for key, (ref, amount) in sorted(refunds_in_period.items()):
        if key not in theirs_refund:
            found.append(Mismatch("missing_theirs", ref, key, amount, None))
    return found
