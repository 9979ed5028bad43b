"""After-sales (售后): a member reports a missing, damaged or wrong item with photos; the
leader of the order's community or an operator accepts (refund) or rejects (reason).

* Photos are uploaded first (:func:`upload_photo`, one request per photo, so a weak
  connection retries one photo, not the whole report), then attached to the case by id. Only
  their uploader can attach them, each to one case.
* A report claims units of the order's lines; the units claimed by open or accepted cases
  can never exceed what was bought, and the amount asked never exceeds what the lines cost
  nor what the order can still refund. The order row is locked while a report is made, so
  concurrent reports cannot both claim the last units.
* A decision is a compare-and-set on the case (``open`` → ``accepted`` | ``rejected``): one
  decision wins, the other gets ``aftersale_decided``. An accepted case refunds through the
  ledger exactly once (refund key ``after_sale:<case id>``): from escrow while the order
  waits at the pickup point, or, once the escrow was released at pickup, by reversing the
  release first (the leader's commission, the fee and the supplier give their shares back).

Services flush, never commit (ENGINEERING.md rule 2).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, func, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from tuangou.aftersales import errors, rules
from tuangou.aftersales.models import AfterSaleCase, AfterSaleLine, AfterSalePhoto, PickupRating
from tuangou.aftersales.rules import CaseStatus
from tuangou.commission import service as commission
from tuangou.communities import service as communities
from tuangou.core import clock, outbox
from tuangou.core.db import get_or_404, upsert_insert
from tuangou.core.errors import InvalidInput, RateLimited
from tuangou.core.storage import StoredFileMissing, get_storage
from tuangou.orders import errors as order_errors
from tuangou.orders import service as orders
from tuangou.photos import service as photos
from tuangou.pools import service as pools

KIND_ZH = {"missing": "少件", "damaged": "破损", "wrong": "错发"}
# Photos a member may have uploaded and not yet attached, per day (disk abuse).
MAX_LOOSE_PHOTOS = 24


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


_insert = upsert_insert  # the dialect's INSERT, for ON CONFLICT


def _refusal(exc: rules.RuleViolation) -> Exception:
    if exc.code == "photo_invalid":
        return errors.PhotoInvalid(exc.message, field=exc.field)
    if exc.code == "refund_exceeds_paid":
        return order_errors.RefundTooLarge(exc.message, field=exc.field)
    return InvalidInput(exc.message, field=exc.field)


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a user and their platform role (member, supplier, operator)."""

    user_id: int
    role: str

    @property
    def operator(self) -> bool:
        return self.role == "operator"


# ---------------------------------------------------------------- photos


def upload_photo(
    session: Session, *, user_id: int, content_type: str, data: bytes
) -> AfterSalePhoto:
    """Store one photo for the caller's next report; returns its id (to attach it)."""
    try:
        kind = rules.check_photo(content_type, data)
    except rules.RuleViolation as exc:
        raise _refusal(exc) from exc
    loose = session.scalar(
        select(func.count())
        .select_from(AfterSalePhoto)
        .where(
            AfterSalePhoto.user_id == user_id,
            AfterSalePhoto.case_id.is_(None),
            AfterSalePhoto.created_at > clock.now() - timedelta(days=1),
        )
    )
    if int(loose or 0) >= MAX_LOOSE_PHOTOS:
        raise RateLimited("too many photos not attached to a report; report first, or wait")
    del kind  # checked; what is stored is the cleaned photo (no EXIF: it carries the home's GPS)
    clean = photos.clean(data).display
    key = get_storage().put(clean.data, suffix=rules.PHOTO_TYPES[clean.content_type])
    photo = AfterSalePhoto(
        id=secrets.token_hex(16),
        user_id=user_id,
        storage_key=key,
        content_type=clean.content_type,
        size=len(clean.data),
        created_at=clock.now(),
    )
    session.add(photo)
    session.flush()
    return photo


def photos_of(session: Session, case_id: int) -> list[AfterSalePhoto]:
    return list(
        session.scalars(
            select(AfterSalePhoto)
            .where(AfterSalePhoto.case_id == case_id)
            .order_by(AfterSalePhoto.position)
        )
    )


def photo(session: Session, viewer: Viewer, case_id: int, n: int) -> tuple[bytes, str]:
    """The ``n``-th photo (1-based) of a case, for the member, the leader and operators."""
    case = get_case(session, case_id)
    assert_can_view(session, case, viewer)
    row = session.scalar(
        select(AfterSalePhoto).where(
            AfterSalePhoto.case_id == case_id, AfterSalePhoto.position == n
        )
    )
    if row is None:
        raise errors.CaseNotFound("this case has no such photo")
    try:
        return get_storage().get(row.storage_key), row.content_type
    except StoredFileMissing as exc:
        raise errors.PhotoNotFound() from exc


def _attach(session: Session, case: AfterSaleCase, photo_ids: list[str]) -> None:
    if len(set(photo_ids)) != len(photo_ids):
        raise errors.PhotoInvalid("each photo can be attached once", field="photo_ids")
    try:
        rules.check_photo_count(len(photo_ids))
    except rules.RuleViolation as exc:
        raise _refusal(exc) from exc
    for position, photo_id in enumerate(photo_ids, start=1):
        moved = _rowcount(
            session.execute(
                update(AfterSalePhoto)
                .where(
                    AfterSalePhoto.id == photo_id,
                    AfterSalePhoto.user_id == case.user_id,
                    AfterSalePhoto.case_id.is_(None),
                )
                .values(case_id=case.id, position=position)
                .execution_options(synchronize_session=False)
            )
        )
        if not moved:
            raise errors.PhotoInvalid(
                f"photo {photo_id} is not one of your uploads, or is attached already",
                field="photo_ids",
            )


# ---------------------------------------------------------------- reporting


def _claimed(session: Session, order_id: int) -> dict[int | None, int]:
    rows = session.execute(
        select(AfterSaleLine.item_id, func.sum(AfterSaleLine.quantity))
        .join(AfterSaleCase, AfterSaleCase.id == AfterSaleLine.case_id)
        .where(AfterSaleLine.order_id == order_id, AfterSaleCase.status.in_(rules.CLAIMING))
        .group_by(AfterSaleLine.item_id)
    ).all()
    return {item_id: int(q) for item_id, q in rows}


def _claimable(session: Session, order: Any) -> dict[int | None, rules.Claimable]:
    """The order's lines as a member may claim them: confirmed wave lines by item id, or
    the one line (None) of a one-SKU order, at their final unit price."""
    claimed = _claimed(session, order.id)
    if order.kind == "wave":
        return {
            line.item_id: rules.Claimable(
                unit_price=line.final_unit_price or line.unit_price,
                quantity=line.quantity,
                claimed=claimed.get(line.item_id, 0),
            )
            for line in pools.lines_of(session, order.id)
            if line.status == pools.LineStatus.CONFIRMED
        }
    return {
        None: rules.Claimable(
            unit_price=order.final_unit_price or order.unit_price,
            quantity=order.quantity,
            claimed=claimed.get(None, 0),
        )
    }


def _open_amount(session: Session, order_id: int) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(AfterSaleCase.amount_requested), 0)).where(
                AfterSaleCase.order_id == order_id, AfterSaleCase.status == CaseStatus.OPEN
            )
        )
        or 0
    )


def report(
    session: Session,
    *,
    user_id: int,
    order_id: int,
    kind: str,
    description: str,
    lines: dict[int | None, int],
    photo_ids: list[str],
    amount: int | None = None,
) -> AfterSaleCase:
    """A member reports a problem with units of their order, with 1–6 uploaded photos."""
    order = orders.get(session, order_id, lock=True)
    if order.user_id != user_id:
        raise order_errors.NotYourOrder()
    if kind not in rules.KINDS:
        raise InvalidInput("the kind is missing, damaged or wrong", field="kind")
    description = description.strip()
    if not description or len(description) > rules.DESCRIPTION_MAX:
        raise InvalidInput("describe the problem (up to 1000 characters)", field="description")
    now = clock.now()
    if not rules.reportable(order.kind, order.status):
        raise errors.NotEligible(status=order.status)
    if not rules.window_open(order.status, order.completed_at, now):
        closes = rules.window_closes(order.completed_at)
        raise errors.WindowClosed(closed_at=clock.as_utc(closes).isoformat() if closes else None)
    refundable = order.paid_amount - order.refunded_amount - _open_amount(session, order.id)
    claimable = _claimable(session, order)
    try:
        value = rules.claim_value(claimable, lines)
        asked = rules.asked_amount(value, amount, refundable)
    except rules.RuleViolation as exc:
        raise _refusal(exc) from exc
    leader_id = community_id = pickup_point_id = None
    if order.kind == "wave":
        info = pools.info_of(session, order.id)
        listing = pools.get_listing(session, info.listing_id)
        leader_id, community_id = listing.leader_id, listing.community_id
        pickup_point_id = info.pickup_point_id
    case = AfterSaleCase(
        order_id=order.id,
        user_id=user_id,
        order_kind=order.kind,
        leader_id=leader_id,
        community_id=community_id,
        pickup_point_id=pickup_point_id,
        kind=kind,
        description=description,
        status=CaseStatus.OPEN,
        amount_requested=asked,
        amount_refunded=0,
        created_at=now,
    )
    session.add(case)
    session.flush()
    session.add_all(
        AfterSaleLine(
            case_id=case.id,
            order_id=order.id,
            item_id=item_id,
            quantity=quantity,
            unit_price=claimable[item_id].unit_price,
        )
        for item_id, quantity in sorted(lines.items(), key=lambda kv: kv[0] or 0)
    )
    _attach(session, case, photo_ids)
    session.flush()
    if leader_id is not None:
        leader = communities.get_leader(session, leader_id)
        outbox.emit(
            session,
            "aftersale.opened",
            {
                "user_ids": [leader.user_id],
                "case_id": case.id,
                "order_id": order.id,
                "kind": kind,
                "kind_zh": KIND_ZH[kind],
                "amount": asked,
            },
        )
    return case


# ---------------------------------------------------------------- reading and access


def get_case(session: Session, case_id: int) -> AfterSaleCase:
    return get_or_404(session, AfterSaleCase, case_id, errors.CaseNotFound)


def lines_of(session: Session, case_id: int) -> list[AfterSaleLine]:
    return list(
        session.scalars(
            select(AfterSaleLine).where(AfterSaleLine.case_id == case_id).order_by(AfterSaleLine.id)
        )
    )


def _leader_id(session: Session, user_id: int) -> int | None:
    leader = communities.find_leader_by_user(session, user_id)
    return leader.id if leader is not None else None


def can_decide(session: Session, case: AfterSaleCase, viewer: Viewer) -> bool:
    """An operator, or the leader of the order's community; never the one who filed it (a
    leader's claim on an order of their own wave goes to the operators)."""
    if viewer.user_id == case.user_id:
        return False
    if viewer.operator:
        return True
    return _leads(session, case, viewer)


def _leads(session: Session, case: AfterSaleCase, viewer: Viewer) -> bool:
    return case.leader_id is not None and _leader_id(session, viewer.user_id) == case.leader_id


def assert_can_view(session: Session, case: AfterSaleCase, viewer: Viewer) -> None:
    if viewer.user_id != case.user_id and not can_decide(session, case, viewer):
        raise errors.NotYourCase()


def cases_of_member(session: Session, user_id: int, *, limit: int = 100) -> list[AfterSaleCase]:
    return list(
        session.scalars(
            select(AfterSaleCase)
            .where(AfterSaleCase.user_id == user_id)
            .order_by(AfterSaleCase.id.desc())
            .limit(limit)
        )
    )


def _check_status(status: str | None) -> None:
    if status is not None and status not in rules.STATUSES:
        raise InvalidInput("the status is open, accepted or rejected", field="status")


def cases_of_leader(
    session: Session, user_id: int, *, status: str | None = CaseStatus.OPEN, limit: int = 200
) -> list[AfterSaleCase]:
    """The cases of the caller's communities, oldest first (the caller must be a leader),
    but their own: those go to the operators."""
    _check_status(status)
    leader = communities.get_leader_by_user(session, user_id)
    query = (
        select(AfterSaleCase)
        .where(AfterSaleCase.leader_id == leader.id, AfterSaleCase.user_id != user_id)
        .order_by(AfterSaleCase.created_at, AfterSaleCase.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(AfterSaleCase.status == status)
    return list(session.scalars(query))


def queue(
    session: Session, *, status: str | None = CaseStatus.OPEN, limit: int = 200
) -> list[AfterSaleCase]:
    """The operators' queue: oldest first."""
    _check_status(status)
    query = select(AfterSaleCase).order_by(AfterSaleCase.created_at, AfterSaleCase.id).limit(limit)
    if status is not None:
        query = query.where(AfterSaleCase.status == status)
    return list(session.scalars(query))


# ---------------------------------------------------------------- deciding


def _decide(
    session: Session, case: AfterSaleCase, viewer: Viewer, status: CaseStatus, **values: Any
) -> None:
    """Compare-and-set ``open`` → ``status``: exactly one decision wins."""
    moved = _rowcount(
        session.execute(
            update(AfterSaleCase)
            .where(AfterSaleCase.id == case.id, AfterSaleCase.status == CaseStatus.OPEN)
            .values(status=status, decided_at=clock.now(), decided_by=viewer.user_id, **values)
            .execution_options(synchronize_session=False)
        )
    )
    session.refresh(case)
    if not moved:
        raise errors.CaseDecided(status=case.status)


def _authorise(session: Session, case: AfterSaleCase, viewer: Viewer) -> None:
    if can_decide(session, case, viewer):
        return
    if viewer.user_id == case.user_id:
        if viewer.operator or _leads(session, case, viewer):
            raise errors.OwnCase()
        raise errors.NotCaseDecider()
    raise errors.NotYourCase()


def accept(
    session: Session, *, case_id: int, viewer: Viewer, amount: int | None = None
) -> AfterSaleCase:
    """Accept a case and refund ``amount`` (default: what was asked) through the ledger."""
    case = get_case(session, case_id)
    _authorise(session, case, viewer)
    # The order first, then the case: the same order of locks as a report.
    order = orders.get(session, case.order_id, lock=True)
    session.refresh(case)  # as it is now that the order is locked
    if case.status != CaseStatus.OPEN:
        raise errors.CaseDecided(status=case.status)
    amount = case.amount_requested if amount is None else amount
    if amount < 1:
        raise InvalidInput("the amount must be at least 1 fen", field="amount")
    if amount > case.amount_requested:
        raise order_errors.RefundTooLarge(
            f"the member asked for {case.amount_requested} fen", field="amount"
        )
    if amount > order.paid_amount - order.refunded_amount:
        raise order_errors.RefundTooLarge(
            f"at most {max(order.paid_amount - order.refunded_amount, 0)} fen can be refunded",
            field="amount",
        )
    key = f"after_sale:{case.id}"
    note = f"售后 #{case.id} ({KIND_ZH.get(case.kind, case.kind)})"
    if order.status in rules.OPEN_BEFORE_RELEASE:
        mode = "escrow"
        refund = orders.refund(
            session, order, amount=amount, reason="after_sale", key=key, note=note
        )
    elif order.status in rules.OPEN_AFTER_RELEASE:
        mode = "reversal"
        refund = orders.refund_after_release(
            session,
            order,
            amount=amount,
            reason="after_sale",
            key=key,
            note=note,
            reversal=commission.reversal_legs(session, order, amount),
        )
    else:
        raise order_errors.RefundTooLarge(f"the order is {order.status}: nothing to refund")
    if refund is None:  # the refund key is taken: this case was refunded already
        raise errors.CaseDecided(status=CaseStatus.ACCEPTED)
    _decide(
        session,
        case,
        viewer,
        CaseStatus.ACCEPTED,
        amount_refunded=amount,
        refund_id=refund.id,
        refund_mode=mode,
    )
    outbox.emit(
        session,
        "aftersale.accepted",
        {
            "user_ids": [case.user_id],
            "case_id": case.id,
            "order_id": case.order_id,
            "amount": amount,
        },
    )
    return case


def reject(session: Session, *, case_id: int, viewer: Viewer, reason: str) -> AfterSaleCase:
    case = get_case(session, case_id)
    _authorise(session, case, viewer)
    reason = reason.strip()
    if not reason or len(reason) > rules.REASON_MAX:
        raise InvalidInput("give the member a reason (up to 200 characters)", field="reason")
    if case.status != CaseStatus.OPEN:
        raise errors.CaseDecided(status=case.status)
    _decide(session, case, viewer, CaseStatus.REJECTED, reject_reason=reason)
    outbox.emit(
        session,
        "aftersale.rejected",
        {
            "user_ids": [case.user_id],
            "case_id": case.id,
            "order_id": case.order_id,
            "reason": reason,
        },
    )
    return case


# ---------------------------------------------------------------- pickup ratings


def rate_pickup(
    session: Session, *, user_id: int, order_id: int, stars: int, comment: str = ""
) -> PickupRating:
    """A member rates the pickup of their completed wave order, once (1–5 stars)."""
    order = orders.get_for_user(session, order_id, user_id)
    try:
        rules.check_stars(stars)
    except rules.RuleViolation as exc:
        raise _refusal(exc) from exc
    comment = comment.strip()
    if len(comment) > rules.COMMENT_MAX:
        raise InvalidInput("the comment may have at most 300 characters", field="comment")
    if order.kind != "wave" or order.status != orders.OrderStatus.COMPLETED:
        raise errors.NotRateable()
    info = pools.info_of(session, order.id)
    listing = pools.get_listing(session, info.listing_id)
    inserted = _rowcount(
        session.execute(
            _insert(session)(PickupRating)
            .values(
                order_id=order.id,
                user_id=user_id,
                leader_id=listing.leader_id,
                pickup_point_id=info.pickup_point_id,
                stars=stars,
                comment=comment,
                created_at=clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["order_id"])
        )
    )
    if not inserted:
        raise errors.AlreadyRated()
    rating = session.get(PickupRating, order.id)
    assert rating is not None
    return rating


def rating_of(session: Session, order_id: int) -> PickupRating | None:
    return session.get(PickupRating, order_id)


# ---------------------------------------------------------------- a leader's record (credit)


@dataclass(frozen=True)
class LeaderRecord:
    cases: int  # after-sale cases on the leader's orders, of any outcome
    accepted: int
    ratings: int
    stars: int


def leader_record(session: Session, leader_id: int, *, since: datetime) -> LeaderRecord:
    cases, accepted = session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(sql_case((AfterSaleCase.status == CaseStatus.ACCEPTED, 1), else_=0)), 0
            ),
        ).where(AfterSaleCase.leader_id == leader_id, AfterSaleCase.created_at >= since)
    ).one()
    ratings, stars = session.execute(
        select(func.count(), func.coalesce(func.sum(PickupRating.stars), 0)).where(
            PickupRating.leader_id == leader_id, PickupRating.created_at >= since
        )
    ).one()
    return LeaderRecord(int(cases), int(accepted), int(ratings), int(stars))


# ---------------------------------------------------------------- a supplier's record (quality)


def case_counts(session: Session, order_ids: Select[int]) -> dict[str, int]:
    """After-sale cases not rejected (open or accepted) on some orders, by kind (missing,
    damaged, wrong): the supplier quality record's after-sales."""
    found = session.execute(
        select(AfterSaleCase.kind, func.count())
        .where(
            AfterSaleCase.order_id.in_(order_ids),
            AfterSaleCase.status != CaseStatus.REJECTED,
        )
        .group_by(AfterSaleCase.kind)
    ).all()
    counts = dict.fromkeys(rules.KINDS, 0)
    counts.update({str(kind): int(n) for kind, n in found})
    return counts
