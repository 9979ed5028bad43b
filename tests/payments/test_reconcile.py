"""``tuangou reconcile``: a gateway's statement, in the format each gateway provides, against
our payments and refunds; every mismatch listed, a non-zero exit when there is any. The sample
statements under tests/payments/data/ are made by :func:`wechat_bill` and
:func:`alipay_detail` (``TUANGOU_WRITE_SAMPLES=1`` writes them again)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.payments.gateways import unconfigure, unpaid_order, wechat
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.payments import notify, reconcile
from tuangou.payments import service as payments
from tuangou.payments.reconcile import BEIJING, Line
from tuangou.payments.rules import yuan

__all__ = ["unconfigure", "wechat"]  # fixtures

DATA = Path(__file__).parent / "data"

WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,"
    "对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
    "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,"
    "服务费（元）,分润（元）,备注"
)


def wechat_bill(lines: list[Line], day: date) -> bytes:
    """A WeChat Pay trade bill (交易账单, ALL) of these lines: backtick-prefixed fields, then
    the summary rows."""
    out = [WECHAT_HEADER]
    for n, line in enumerate(lines):
        at = f"{day} 10:{n:02d}:00"
        amount = yuan(line.amount)
        if line.kind == "payment":
            fields = [
                at,
                "wxd678efh567hg6787",
                "1900000109",
                "0",
                "",
                line.txn_id,
                line.ref,
                "oUpF8uMuAJO",
                "MWEB",
                "SUCCESS",
                "CMB_DEBIT",
                "CNY",
                amount,
                "0.00",
                "0",
                "0",
                "0.00",
                "0.00",
                "",
                "",
                "团购订单",
                "",
                "0.00000",
                "0.60%",
                amount,
                "0.00",
                "",
            ]
        else:
            key = (line.refund_key or "").replace(":", "-")
            fields = [
                at,
                "wxd678efh567hg6787",
                "1900000109",
                "0",
                "",
                line.txn_id,
                line.ref,
                "oUpF8uMuAJO",
                "MWEB",
                "REFUND",
                "CMB_DEBIT",
                "CNY",
                "0.00",
                "0.00",
                "50300" + key,
                key,
                amount,
                "0.00",
                "ORIGINAL",
                "SUCCESS",
                "团购订单",
                "",
                "0.00000",
                "0.60%",
                "0.00",
                amount,
                "",
            ]
        out.append(",".join("`" + f for f in fields))
    paid = sum(x.amount for x in lines if x.kind == "payment")
    refunded = sum(x.amount for x in lines if x.kind == "refund")
    out.append(
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    )
    out.append(
        ",".join(
            "`" + f
            for f in [
                str(len(lines)),
                yuan(paid),
                yuan(refunded),
                "0.00",
                "0.00000",
                yuan(paid),
                yuan(refunded),
            ]
        )
    )
    return ("\r\n".join(out) + "\r\n").encode("utf-8")


def alipay_detail(lines: list[Line], day: date) -> bytes:
    """An Alipay business detail (业务明细) of these lines, in GBK, with its # lines."""
    nxt = date.fromordinal(day.toordinal() + 1)
    out = [
        "#支付宝业务明细查询",
        "#账号：[20881021778468800156]",
        f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{nxt:%Y年%m月%d日} 00:00:00]",
        "#-----------------------------------------业务明细列表----------------------------------------",
        ALIPAY_HEADER,
    ]
    for n, line in enumerate(lines):
        at = f"{day} 11:{n:02d}:00"
        if line.kind == "payment":
            kind, amount, request = "交易", yuan(line.amount), ""
        else:
            kind, amount = "退款", yuan(-line.amount)
            request = (line.refund_key or "").replace(":", "-")
        cells = [
            line.txn_id,
            line.ref,
            kind,
            "团购订单",
            at,
            at,
            "",
            "",
            "",
            "",
            "buy***@example.com",
            amount,
            amount,
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "",
            "0.00",
            "0.00",
            request,
            "0.00",
            "0.00",
            "",
        ]
        out.append(",".join(c + "\t" for c in cells))
    paid = [x for x in lines if x.kind == "payment"]
    out += [
        "#-----------------------------------------业务明细列表结束------------------------------------",
        f"#交易合计：{len(paid)}笔，商家实收共：{yuan(sum(x.amount for x in paid))}元，"
        "商家优惠共：0.00元",
        "#退款合计：{}笔，商家实收退款共：{}元".format(
            len(lines) - len(paid), yuan(-sum(x.amount for x in lines if x.kind == "refund"))
        ),
        f"#导出时间：[{nxt:%Y年%m月%d日} 09:00:00]",
    ]
    return ("\r\n".join(out) + "\r\n").encode("gbk")


SAMPLE_DAY = date(2026, 12, 7)
SAMPLE = [
    Line("payment", "tg_0a1b2c3d4e5f60718293", "4200002026120700000001", 2590, SAMPLE_DAY),
    Line("payment", "tg_1b2c3d4e5f6071829304", "4200002026120700000002", 128800, SAMPLE_DAY),
    Line(
        "refund", "tg_1b2c3d4e5f6071829304", "4200002026120700000002", 9900, SAMPLE_DAY, "refund:17"
    ),
]


def test_the_sample_statements_are_read_as_made() -> None:
    """The shipped samples are what the builders make (rewrite them with
    TUANGOU_WRITE_SAMPLES=1), and each reader reads its gateway's format back."""
    made = {
        "wechat-tradebill.csv": wechat_bill(SAMPLE, SAMPLE_DAY),
        "alipay-business-detail.csv": alipay_detail(SAMPLE, SAMPLE_DAY),
    }
    if os.environ.get("TUANGOU_WRITE_SAMPLES"):
        DATA.mkdir(exist_ok=True)
        for name, content in made.items():
            (DATA / name).write_bytes(content)
    for name, content in made.items():
        assert (DATA / name).read_bytes() == content, f"{name} is stale"
    for gateway, name in (
        ("wechat", "wechat-tradebill.csv"),
        ("alipay", "alipay-business-detail.csv"),
    ):
        statement = reconcile.read(gateway, (DATA / name).read_bytes())
        assert [(x.kind, x.ref, x.amount, x.refund_key) for x in statement.lines] == [
            (x.kind, x.ref, x.amount, x.refund_key) for x in SAMPLE
        ]
        assert statement.first_day == statement.last_day == SAMPLE_DAY
    with pytest.raises(reconcile.StatementError):
        reconcile.read("wechat", made["alipay-business-detail.csv"])
    with pytest.raises(reconcile.StatementError):
        reconcile.read("alipay", made["wechat-tradebill.csv"])


def _paid_world() -> list[tuple[str, int]]:
    """Three WeChat Pay payments that succeeded today, one of them with a refund of 9.90:
    [(ref, amount)]."""
    paid = []
    for price in (2590, 4900, 1200):
        _, order_id = unpaid_order(price=price)

        def pay(session: Any, order_id: int = order_id) -> tuple[str, int]:
            (p,) = payments.payments_of(session, order_id)
            assert p.gateway == "wechat"
            assert payments.apply_outcomes(session, [(p.gateway_ref, "succeeded")]) == {
                p.gateway_ref: "paid"
            }
            return p.gateway_ref, p.amount

        paid.append(run_in_transaction(pay))
    with unit_of_work() as session:
        notify.record_refund(
            session,
            "wechat",
            key="refund:901",
            ref=paid[0][0],
            amount=990,
            gateway_refund_id="503001",
        )
    return paid


def _run(tmp_path: Path, db: str, gateway: str, content: bytes) -> Any:
    path = tmp_path / f"{gateway}.csv"
    path.write_bytes(content)
    from tuangou.cli import app

    return CliRunner().invoke(
        app,
        ["reconcile", "--gateway", gateway, str(path), "--database-url", db],
        env={"COLUMNS": "200"},
    )


def test_reconcile_lists_every_mismatch(wechat: Any, db: str, tmp_path: Path) -> None:
    (a, a_amount), (b, b_amount), (c, c_amount) = _paid_world()
    today = clock.as_utc(clock.now()).astimezone(BEIJING).date()
    clean = [
        Line("payment", a, "42001", a_amount, today),
        Line("payment", b, "42002", b_amount, today),
        Line("payment", c, "42003", c_amount, today),
        Line("refund", a, "42001", 990, today, "refund:901"),
    ]
    result = _run(tmp_path, db, "wechat", wechat_bill(clean, today))
    assert result.exit_code == 0, result.output
    assert "no mismatch" in result.output

    messy = [
        Line("payment", a, "42001", a_amount, today),
        Line("payment", b, "42002", b_amount + 100, today),  # amount differs
        Line("payment", "tg_not_ours_at_all_000", "42009", 500, today),  # missing on ours
        Line("refund", a, "42001", 900, today, "refund:901"),  # refund differs
        Line("refund", b, "42002", 300, today, "refund:999"),  # a refund we never sent
    ]  # and c is missing on theirs
    for gateway, content in (
        ("wechat", wechat_bill(messy, today)),
        ("alipay", alipay_detail(messy, today)),
    ):
        with unit_of_work(readonly=True) as session:
            found = reconcile.reconcile(session, "wechat", reconcile.read(gateway, content))
        assert sorted((m.problem, m.ref, m.refund_key, m.ours, m.theirs) for m in found) == sorted(
            [
                ("amount_differs", b, None, b_amount, b_amount + 100),
                ("missing_ours", "tg_not_ours_at_all_000", None, None, 500),
                ("missing_theirs", c, None, c_amount, None),
                ("refund_differs", a, "refund:901", 990, 900),
                ("missing_ours", b, "refund:999", None, 300),
            ]
        )
    result = _run(tmp_path, db, "wechat", wechat_bill(messy, today))
    assert result.exit_code == 1, result.output
    for word in ("amount_differs", "missing_ours", "missing_theirs", "refund_differs", c):
        assert word in result.output
    # Alipay has none of these payments: all of its lines are missing on our side.
    result = _run(tmp_path, db, "alipay", alipay_detail(clean, today))
    assert result.exit_code == 1 and result.output.count("missing_ours") == 4, result.output
    result = _run(tmp_path, db, "wechat", b"not,a,statement\n")
    assert result.exit_code == 2 and "cannot read" in result.output
