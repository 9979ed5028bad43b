from __future__ import annotations

import html
import logging
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from tuangou.api.deps import Operator
from tuangou.core import group_commit, money, secret, wakeup
from tuangou.core.config import get_settings
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.core.schemas import file_responses
from tuangou.payments import notify, schemas
from tuangou.payments import service as payments
from tuangou.payments.gateway import BadSignature, enabled, get_gateway, sandbox
from tuangou.payments.tasks import CALLBACKS_JOB

router = APIRouter(tags=["payments"])

_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>沙箱支付 Sandbox pay</title>
<style>body{{font:16px system-ui,sans-serif;margin:2em auto;max-width:24em;padding:0 1em}}
button{{display:block;width:100%;margin:.5em 0;padding:.8em;font-size:1em}}</style></head>
<body><h1>沙箱支付 · Sandbox gateway</h1><p>订单金额 Amount: <strong>{amount}</strong></p>
<p><small>ref {ref}</small></p>
<button data-o="approve">确认支付 Pay</button><button data-o="decline">模拟拒付 Decline</button>
<button data-o="timeout">模拟回调丢失 Lose the callback</button>
<button data-o="duplicate">模拟重复回调 Duplicate callbacks</button><p id="r" role="status"></p>
<script>for(const b of document.querySelectorAll("button"))b.onclick=async()=>{{
const r=await fetch("/api/sandbox/pay",{{method:"POST",headers:{{"content-type":"application/json"}},
body:JSON.stringify({{ref:{ref_js},amount:{amount_raw},sig:{sig_js},outcome:b.dataset.o}})}});
document.getElementById("r").textContent=JSON.stringify(await r.json());}}</script></body></html>"""


@router.get(
    "/sandbox/pay",
    response_class=HTMLResponse,
    tags=["sandbox gateway"],
    responses=file_responses("text/html", description="The payment page"),
)
def sandbox_page(ref: str, amount: int, sig: str) -> HTMLResponse:
    """The sandbox gateway's payment page (where a pay_url leads)."""
    sandbox().check(ref, amount, sig)
    import json

    return HTMLResponse(
        _PAGE.format(
            amount=html.escape(money.fmt(amount)),
            ref=html.escape(ref),
            ref_js=json.dumps(ref),
            sig_js=json.dumps(sig),
            amount_raw=int(amount),
        )
    )


# Paying is a hot path: the model documents the reply, the route sends its dict as it is.
@router.post(
    "/sandbox/pay",
    tags=["sandbox gateway"],
    response_model=None,
    responses={200: {"model": schemas.SandboxPayOut}},
)
async def sandbox_pay(
    body: schemas.SandboxPayIn,
    ref: str | None = None,
    amount: int | None = None,
    sig: str | None = None,
) -> dict[str, Any]:
    """The payer confirms on the sandbox page (POST to the pay_url works too). The gateway
    answers at once; our order learns the outcome later, from the gateway's callback (or, if
    the callback is lost, by asking the gateway)."""
    ref, amount, sig = body.ref or ref, body.amount or amount, body.sig or sig
    if not ref or not amount or not sig:
        raise BadSignature("ref, amount and sig of the pay_url are required")

    def work(session: Any) -> dict[str, Any]:
        charge = payments.sandbox_authorize(
            session, ref=ref, amount=amount, sig=sig, outcome=body.outcome
        )
        return {"ref": charge.ref, "gateway_status": charge.status, "amount": charge.amount}

    reply = await group_commit.run(work)
    # Its callback is due in a moment: this process's worker lands it then, not at its
    # next round (the opener's team opens, and friends can join, that much sooner).
    wakeup.soon(CALLBACKS_JOB, get_settings().sandbox_callback_delay_ms / 1000)
    return reply


@router.get("/sandbox/charges/{ref}", tags=["sandbox gateway"])
def sandbox_charge(ref: str, who: Operator) -> schemas.SandboxChargeOut:
    """What the sandbox gateway knows of a charge: for operators, as a provider's merchant
    console (the payer sees their payment on their order)."""
    with unit_of_work(readonly=True) as session:
        status = sandbox().query(session, ref)
        return schemas.SandboxChargeOut(ref=ref, status=status.status, amount=status.amount)


def callback_signature(ref: str, status: str) -> str:
    return secret.sign(f"{ref}|{status}", "sandbox-callback")


@router.post(
    "/payments/webhooks/sandbox", tags=["sandbox gateway"], response_model=schemas.WebhookOut
)
def sandbox_webhook(body: schemas.WebhookIn) -> dict[str, Any]:
    """The gateway's confirmation callback. Safe to receive any number of times."""
    if not secret.verify(f"{body.ref}|{body.status}", body.sig, "sandbox-callback"):
        raise BadSignature()

    def work(session: Any) -> dict[str, Any]:
        truth = sandbox().query(session, body.ref)
        if truth.status != body.status:
            raise BadSignature("the callback disagrees with the gateway's own record")
        return {"result": payments.apply_outcomes(session, [(body.ref, body.status)])[body.ref]}

    return run_in_transaction(work)


# ---------------------------------------------------------------- the real gateways' notices

log = logging.getLogger(__name__)


def _land(name: str, verify: Any) -> str:
    """Verify a notice (``verify(gateway)``) and land it in one transaction."""
    if name not in enabled():
        raise BadSignature(f"the {name} gateway is not configured here")
    gateway: Any = get_gateway(name)  # WechatGateway or AlipayGateway
    notice = verify(gateway)
    return str(run_in_transaction(lambda session: notify.handle(session, gateway, notice)))


@router.post(
    "/payments/webhooks/wechat",
    tags=["payment gateways"],
    response_model=None,
    responses={
        200: {"model": schemas.WechatNotifyOut, "description": "Accepted (or a duplicate)"},
        400: {"model": schemas.WechatNotifyOut, "description": "Refused: WeChat Pay retries"},
        500: {"model": schemas.WechatNotifyOut, "description": "Not landed: WeChat Pay retries"},
    },
)
async def wechat_webhook(request: Request) -> Response:
    """WeChat Pay's notification (payment or refund), signed with the platform key and its
    resource encrypted with the API v3 key. Answers as WeChat Pay expects: 200 with
    ``{"code": "SUCCESS"}``, or an error status with ``{"code": "FAIL", "message": …}``."""
    body = await request.body()
    headers = dict(request.headers)
    try:
        result = await run_in_threadpool(
            _land, "wechat", lambda gateway: gateway.verify_notice(headers, body)
        )
    except DomainError as exc:
        log.warning("wechat pay notice refused: %s", exc.code)
        return JSONResponse({"code": "FAIL", "message": exc.title}, status_code=exc.status)
    except Exception:
        log.exception("wechat pay notice not landed; WeChat Pay will send it again")
        return JSONResponse({"code": "FAIL", "message": "not landed"}, status_code=500)
    log.info("wechat pay notice: %s", result)
    return JSONResponse({"code": "SUCCESS", "message": "成功"})


@router.post(
    "/payments/webhooks/alipay",
    tags=["payment gateways"],
    response_class=PlainTextResponse,
    responses=file_responses("text/plain", description="success, or fail (Alipay retries)"),
)
async def alipay_webhook(request: Request) -> Response:
    """Alipay's asynchronous notification (a form POST, RSA2-signed). Answers as Alipay
    expects: the plain text ``success``, or ``fail`` (Alipay sends it again later)."""
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("gbk", errors="replace")
    form = dict(parse_qsl(text, keep_blank_values=True))
    try:
        result = await run_in_threadpool(
            _land, "alipay", lambda gateway: gateway.verify_notice(form)
        )
    except DomainError as exc:
        # Alipay reads the body only: anything but "success" is sent again later.
        log.warning("alipay notice refused: %s", exc.code)
        return PlainTextResponse("fail")
    except Exception:
        log.exception("alipay notice not landed; Alipay will send it again")
        return PlainTextResponse("fail", status_code=500)
    log.info("alipay notice: %s", result)
    return PlainTextResponse("success")
