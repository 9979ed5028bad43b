"""我的 → 隐私与数据: the member downloads their data and deletes their account.

The page says what a deletion keeps and why, lists what blocks it now (each open order
linked), and asks for the typed phrase; the form carries the session's CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction
from tuangou.privacy import rules as privacy_rules
from tuangou.privacy import service as privacy
from tuangou.web import i18n, session
from tuangou.web.forms import FormState
from tuangou.web.session import Form, PageBuyer
from tuangou.web.templating import render

router = APIRouter()

PAGE = "/me/privacy"

# The words of each blocker and of what is kept (message ids of the catalog).
BLOCKER_WORDS = {
    "open_orders": i18n.lazy(
        "Orders not finished (to pay, paid, on the way or waiting for pickup)"
    ),
    "open_aftersales": i18n.lazy("After-sale claims not decided yet"),
    "pending_withdrawals": i18n.lazy("Withdrawals waiting for approval"),
    "balance": i18n.lazy("Money in your wallets: withdraw it first"),
    "leading": i18n.lazy("You are a leader: ask the operators to end it first"),
}
KEPT_WORDS = {
    "orders": i18n.lazy("Orders, payments and refunds: trade records the law asks us to keep"),
    "ledger": i18n.lazy("The money journal and commissions: accounting records"),
    "content": i18n.lazy(
        "Your posts, replies and reviews keep their text, under the name 已注销用户"
    ),
}


def _page(request: Request, user_id: int, state: FormState, *, status_code: int = 200) -> Response:
    preview = read(lambda db: privacy.preview(db, user_id))
    return render(
        request,
        "member/privacy.html",
        {
            "form": state,
            "blockers": preview.blockers,
            "blocker_words": BLOCKER_WORDS,
            "kept": [KEPT_WORDS[k] for k in preview.kept if k in KEPT_WORDS],
            "phrase": privacy_rules.CONFIRM_PHRASES[0],
            "deleted": False,
        },
        status_code=status_code,
    )


@router.get(PAGE)
def privacy_page(request: Request, who: PageBuyer) -> Response:
    return _page(request, who.user_id, FormState())


@router.get(PAGE + "/export")
def export(request: Request, who: PageBuyer) -> Response:
    data = read(lambda db: privacy.export_zip(db, who.user_id))
    stamp = clock.now().strftime("%Y%m%d")
    return Response(
        content=data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="tuangou-data-{stamp}.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.post(PAGE + "/delete")
def delete(request: Request, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    state.required(request, "confirm")
    if state.ok:
        try:
            done = run_in_transaction(
                lambda db: privacy.delete_account(db, who.user_id, confirm=state.text("confirm"))
            )
        except (privacy.DeletionBlocked, privacy.DeletionNotConfirmed) as exc:
            state.refuse(request, exc, default_field="confirm")
        else:
            privacy.finish(done)
            accounts.forget_token_version(who.user_id)
            session.log_out(request)
            return render(request, "member/privacy.html", {"deleted": True, "form": state})
    return _page(request, who.user_id, state, status_code=400)
