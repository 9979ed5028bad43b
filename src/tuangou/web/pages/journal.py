"""The verifiable record's pages: 我的账本 (``/me/journal``: the member's money movements and
points, each with 验证, checked in the browser), its proof bundle (``/me/journal/bundle.json``,
for ``tuangou verify``), the public key and checkpoints (``/journal/key``) and a page that
checks a saved bundle in the browser (``/journal/verify``)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tuangou.core.db import read
from tuangou.journal import rules as journal_rules
from tuangou.journal import service as journal
from tuangou.web import i18n
from tuangou.web.session import PageBuyer
from tuangou.web.templating import render

router = APIRouter()

KINDS = {
    "payment": i18n.lazy("Paid into escrow"),
    "refund": i18n.lazy("Refund out of escrow"),
    "refund_sent": i18n.lazy("Refund sent back"),
    "release": i18n.lazy("Released to the supplier"),
    "release_reversal": i18n.lazy("Release taken back"),
    "subsidy": i18n.lazy("Platform subsidy"),
    "subsidy_return": i18n.lazy("Subsidy returned"),
    "award": i18n.lazy("Points earned"),
    "spend": i18n.lazy("Points spent"),
    "expire": i18n.lazy("Points expired"),
}


def _row(entry: dict[str, Any], member_id: int) -> dict[str, Any]:
    data = json.loads(entry["data"])
    source = data.get("source")
    if source == "ledger":
        escrow = journal_rules.member_escrow(data, member_id)
        mine = sum(
            int(n)
            for a, n in data.get("legs", [])
            if a.startswith("referral_") and a.endswith(f":{member_id}")
        )
        amount, unit = (escrow or mine), "fen"
    elif source == "points":
        amount = sum(int(n) for a, n in data.get("legs", []) if a.endswith(f":{member_id}"))
        unit = "points"
    else:
        amount, unit = int(data.get("cut", 0)), "fen"
    label = KINDS.get(data.get("kind", ""), data.get("kind") or i18n.lazy("Bargain help"))
    return {"e": entry, "data": data, "amount": amount, "unit": unit, "label": label}


@router.get("/me/journal")
def my_journal(request: Request, who: PageBuyer) -> Response:
    bundle = read(lambda db: journal.member_bundle(db, who.user_id))
    return render(
        request,
        "member/journal/mine.html",
        {
            "bundle": bundle,
            "rows": [_row(e, who.user_id) for e in reversed(bundle["entries"])],
            "checkpoint_json": json.dumps(bundle["checkpoint"]),
        },
    )


@router.get("/me/journal/bundle.json")
def my_bundle(who: PageBuyer) -> Response:
    bundle = read(lambda db: journal.member_bundle(db, who.user_id))
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=1),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="journal-bundle.json"'},
    )


@router.get("/journal/key")
def key_page(request: Request) -> Response:
    pub = journal.public_key()
    found = read(lambda db: journal.checkpoints(db, None, limit=10))
    return render(
        request,
        "member/journal/key.html",
        {"public_key": pub.hex(), "key_id": journal_rules.key_id(pub), "checkpoints": found},
    )


@router.get("/journal/verify")
def verify_page(request: Request) -> Response:
    return render(request, "member/journal/verify.html", {"public_key": journal.public_key().hex()})
