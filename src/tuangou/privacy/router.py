"""The member's own data: the export (a zip), the deletion of their account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from tuangou.accounts import service as accounts
from tuangou.api.deps import Member
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.schemas import file_responses
from tuangou.privacy import rules, schemas
from tuangou.privacy import service as privacy

router = APIRouter(tags=["privacy"])


def preview_out(p: privacy.Preview) -> schemas.DeletionPreviewOut:
    return schemas.DeletionPreviewOut(
        deleted=p.deleted,
        may_delete=not p.deleted and not p.blockers,
        blockers=[
            schemas.BlockerOut(kind=b.kind, count=b.count, ids=list(b.ids), amount=b.amount)
            for b in p.blockers
        ],
        kept=dict(p.kept),
        erased=list(p.erased),
        confirm_phrase=rules.CONFIRM_PHRASES[0],
    )


@router.get(
    "/me/export",
    response_class=Response,
    responses=file_responses("application/zip", description="The member's data, zipped"),
)
def export(who: Member) -> Response:
    """The caller's own data: a zip of one JSON file per domain (profile, addresses, orders,
    payments and refunds, points, posts, reviews, events, referrals, notifications, consents…)
    and their photos. Other people's phone numbers in it are masked."""
    with unit_of_work(readonly=True) as session:
        data = privacy.export_zip(session, who.user_id)
    stamp = clock.now().strftime("%Y%m%d")
    return Response(
        content=data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="tuangou-data-{stamp}.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/me/deletion")
def deletion_preview(who: Member) -> schemas.DeletionPreviewOut:
    """What deleting the caller's account would do: what blocks it now, what is kept (and
    why), what is erased, and the phrase that confirms it."""
    with unit_of_work(readonly=True) as session:
        return preview_out(privacy.preview(session, who.user_id))


@router.post("/me/deletion")
def delete_account(body: schemas.DeletionIn, who: Member) -> schemas.DeletionOut:
    """Delete the caller's account, confirmed by the typed phrase. Refused with 409
    ``deletion_blocked`` (listing each open order, claim, withdrawal or balance) while
    anything is open; then personal data is anonymised, photos deleted, every token and
    session revoked; orders and money records stay under a pseudonym."""

    def work(session: Any) -> privacy.Deletion:
        return privacy.delete_account(session, who.user_id, confirm=body.confirm)

    done = run_in_transaction(work)
    privacy.finish(done)
    accounts.forget_token_version(who.user_id)
    return schemas.DeletionOut(deleted=done.deleted)
