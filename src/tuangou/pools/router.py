from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.api.deps import (
    Caller,
    IdemKey,
    MaybeCaller,
    Member,
    Operator,
    SupplierStaff,
    idempotent,
    screen,
)
from tuangou.commission import service as commission
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.db import unit_of_work
from tuangou.core.errors import Forbidden
from tuangou.orders.schemas import OrderOut
from tuangou.payments.schemas import PaymentOut
from tuangou.pools import errors, schemas
from tuangou.pools import service as pools

router = APIRouter(tags=["community waves"])

# The token of a wave's share link (``ListingOut.share_path``): it lets an invitee see the wave.
ShareToken = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="the token of the wave's share link, for an invitee who is not a member",
    ),
]


def _items(session: Session, wave_id: int) -> list[schemas.ItemProgressOut]:
    return [
        schemas.ItemProgressOut.model_validate(pools.progress(i))
        for i in pools.items_of(session, wave_id)
    ]


def _wave_page(
    session: Session, listing_id: int, viewer_id: int | None = None
) -> schemas.WavePageOut:
    listing = pools.get_listing(session, listing_id)
    wave = pools.get_wave(session, listing.wave_id)
    leader = communities.get_leader(session, listing.leader_id)
    point = communities.get_pickup_point(session, listing.pickup_point_id)
    names = communities.people(session, [leader.user_id])
    summary = pools.chain_summary(session, listing.id, viewer_id=viewer_id)
    return schemas.WavePageOut.model_construct(
        listing=schemas.ListingOut.of(listing),
        wave=schemas.WaveOut.of(wave),
        leader=schemas.WaveLeaderOut.model_construct(
            id=leader.id, name=names[leader.user_id].nickname
        ),
        pickup_point=schemas.WavePickupPointOut.model_construct(
            id=point.id,
            name=point.name,
            address=point.address,
            opening_hours=point.opening_hours,
            latitude=point.latitude,
            longitude=point.longitude,
        ),
        items=_items(session, wave.id),
        chain=[schemas.ChainEntryOut.of(row) for row in summary.latest],
        chain_count=summary.count,
        my_chain=[schemas.ChainEntryOut.of(row) for row in summary.mine],
    )


# ---------------------------------------------------------------- members


@router.get("/communities/{community_id}/waves")
def community_waves(
    community_id: int, who: Caller, all: bool = False
) -> list[schemas.ListedWaveOut]:
    """The waves published in a community (open ones by default), for its members, its
    leader and admins, and the operators."""
    with unit_of_work(readonly=True) as session:
        if who.role != "operator" and not communities.is_member(session, community_id, who.user_id):
            communities.assert_can_manage(session, who.user_id, community_id)
        return [
            schemas.ListedWaveOut.model_construct(
                listing=schemas.ListingOut.of(listing), wave=schemas.WaveOut.of(wave)
            )
            for listing, wave in pools.listings_of_community(
                session,
                community_id,
                open_only=not all,
                viewer_id=None if who.role == "operator" else who.user_id,
            )
        ]


def _visible(session: Session, listing_id: int, who: Any, share: str | None) -> None:
    pools.visible_listing(
        session,
        listing_id,
        user_id=who.user_id if who is not None else None,
        operator=who is not None and who.role == "operator",
        share=share,
    )


@router.get("/listings/{listing_id}")
def wave_page(listing_id: int, who: MaybeCaller, share: ShareToken = None) -> schemas.WavePageOut:
    """A wave as a community sees it: leader, pickup point, cut-off, MOQ progress, chain.
    For the community's members, its leader and operators, and for invitees (with the share
    link's token); anyone else gets 404, as for a listing that does not exist."""
    with unit_of_work(readonly=True) as session:
        _visible(session, listing_id, who, share)
        return _wave_page(session, listing_id, who.user_id if who is not None else None)


@router.get("/listings/{listing_id}/chain")
def wave_chain(
    listing_id: int,
    who: MaybeCaller,
    share: ShareToken = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=pools.CHAIN_MOST)] = pools.CHAIN_PAGE,
) -> schemas.ChainPageOut:
    """A wave's chain list (接龙), page by page from the first order (keyset on the chain
    number), for whoever may see the wave (the same rule as ``GET /api/listings/{id}``)."""
    with unit_of_work(readonly=True) as session:
        _visible(session, listing_id, who, share)
        page = pools.chain_page(
            session,
            listing_id,
            viewer_id=who.user_id if who is not None else None,
            cursor=cursor,
            limit=limit,
        )
        return schemas.ChainPageOut.model_construct(
            lines=[schemas.ChainEntryOut.of(row) for row in page.lines],
            next_cursor=page.next_cursor,
        )


@router.post("/listings/{listing_id}/orders", status_code=201, response_model=schemas.PlacedOut)
def place_order(
    listing_id: int,
    body: schemas.OrderIn,
    request: Request,
    who: Member,
    key: IdemKey = None,
    share: ShareToken = None,
) -> JSONResponse:
    """Join the chain (跟团): one order for the chosen quantities, paid on the gateway. For the
    community's members (an invitee who has not joined it yet is told so)."""

    def work(session: Session) -> dict[str, Any]:
        _visible(session, listing_id, who, share)
        placed = pools.place_order(
            session,
            user_id=who.user_id,
            listing_id=listing_id,
            quantities=body.items,
            remark=body.remark,
            coupon_id=body.coupon_id,
        )
        screen(
            request,
            session,
            type="order",
            actor=who.user_id,
            target=f"order:{placed.order.id}",
            amount_fen=placed.order.amount,
        )
        return schemas.PlacedOut.model_construct(
            order=OrderOut.of(placed.order),
            wave_order=schemas.WaveOrderInfoOut.of(placed.info),
            lines=[schemas.LineOut.of(line) for line in placed.lines],
            payment=PaymentOut.of(placed.started.payment),
            pay_url=placed.started.pay_url,
        ).model_dump()

    return idempotent(
        request, who=who, key=key, body=body.model_dump(mode="json"), work=work, status_code=201
    )


def _wave_order(session: Session, order_id: int) -> schemas.WaveOrderOut:
    from tuangou.orders import service as orders

    order = orders.get(session, order_id)
    info = pools.info_of(session, order_id)
    titles = {i.id: i.title for i in pools.items_of(session, info.wave_id)}
    return schemas.WaveOrderOut.model_construct(
        order=OrderOut.of(order, refunds=orders.refunds_of(session, order.id)),
        wave_order=schemas.WaveOrderInfoOut.of(info),
        lines=[
            schemas.LineOut.of(line, titles.get(line.item_id, ""))
            for line in pools.lines_of(session, order_id)
        ],
    )


@router.get("/wave-orders/{order_id}")
def wave_order(order_id: int, who: Caller) -> schemas.WaveOrderOut:
    """A member's wave order with its lines and chain number."""
    from tuangou.orders import service as orders

    with unit_of_work(readonly=True) as session:
        order = orders.get(session, order_id)
        info = pools.info_of(session, order_id)
        if order.user_id != who.user_id and who.role != "operator":
            listing = pools.get_listing(session, info.listing_id)
            leader = communities.find_leader_by_user(session, who.user_id)
            if leader is None or leader.id != listing.leader_id:
                raise orders.errors.NotYourOrder()
        return _wave_order(session, order_id)


@router.post("/wave-orders/{order_id}/cancel")
def cancel_wave_order(order_id: int, who: Member) -> schemas.WaveOrderOut:
    """Cancel your wave order before the wave's cut-off: a paid order is refunded in full
    (back to where it was paid from), its units leave the MOQ counts and it leaves the chain
    list. A retry returns the cancelled order; after the cut-off, or once the wave settled,
    ``cancel_too_late`` (409)."""
    with unit_of_work() as session:
        pools.cancel_order(session, user_id=who.user_id, order_id=order_id)
        return _wave_order(session, order_id)


# ---------------------------------------------------------------- leaders


@router.post("/leader/waves", status_code=201, tags=["leaders"])
def publish(body: schemas.PublishIn, who: Caller) -> schemas.WavePageOut:
    """Publish tomorrow's wave to one of your communities."""
    with unit_of_work() as session:
        _, listing = pools.publish_wave(
            session,
            user_id=who.user_id,
            community_id=body.community_id,
            pickup_point_id=body.pickup_point_id,
            data=body.data(),
        )
        return _wave_page(session, listing.id)


@router.get("/leader/waves", tags=["leaders"])
def my_waves(who: Caller) -> list[schemas.LeaderWaveOut]:
    """Today: your waves with live totals per item against the MOQ."""
    with unit_of_work(readonly=True) as session:
        leader = communities.get_leader_by_user(session, who.user_id)
        return [
            schemas.LeaderWaveOut.model_construct(
                listing=schemas.ListingOut.of(listing),
                wave=schemas.WaveOut.of(wave),
                items=_items(session, wave.id),
            )
            for listing, wave in pools.listings_of_leader(session, leader.id)
        ]


@router.get("/leader/waves/{listing_id}/share", tags=["leaders"])
def share_wave(
    listing_id: int,
    request: Request,
    who: Caller,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> schemas.WaveShareOut:
    """分享团期: the copy-ready 接龙 text of one of your waves (the id of its listing, as
    ``GET /leader/waves`` lists it) with its share link, and the poster's address. Another
    leader's listing is answered as a missing one (404)."""
    base = get_settings().public_url or str(request.base_url)
    with unit_of_work(readonly=True) as session:
        shared = pools.share_of_listing(
            session, user_id=who.user_id, listing_id=listing_id, base_url=base, lang=lang
        )
    return schemas.WaveShareOut(
        listing_id=shared.listing_id,
        text=shared.text,
        link=shared.link,
        poster_url=base.rstrip("/") + shared.poster_path,
        lang=lang,
    )


@router.post("/leader/waves/{listing_id}/share/new-link", tags=["leaders"])
def new_share_link(listing_id: int, request: Request, who: Caller) -> schemas.WaveShareOut:
    """Replace the share link of one of your waves (one that leaked): the old link then shows
    nothing; the community's members see the wave as before. Answers the new 接龙 text."""
    with unit_of_work() as session:
        pools.new_share_link(session, user_id=who.user_id, listing_id=listing_id)
    return share_wave(listing_id, request, who)


@router.get("/leader/skus", tags=["leaders"])
def sku_choices(who: Caller) -> list[schemas.SkuChoiceOut]:
    """The SKUs you may put in a wave of your own, each with its supplier's terms: the floor
    price (base price and every tier) and the maximum commission (your own goods are free)."""
    with unit_of_work(readonly=True) as session:
        leader = communities.get_leader_by_user(session, who.user_id)
        return [
            schemas.SkuChoiceOut.model_construct(**vars(c))
            for c in pools.sku_choices(session, leader.id)
        ]


@router.get("/catalogue", tags=["leaders"])
def catalogue(who: Caller) -> list[schemas.WaveWithItemsOut]:
    """Suppliers' waves that leaders may resell in their communities (帮卖)."""
    with unit_of_work(readonly=True) as session:
        communities.get_leader_by_user(session, who.user_id)
        return [
            schemas.WaveWithItemsOut.with_items(w, _items(session, w.id))
            for w in pools.catalogue(session)
        ]


@router.post(
    "/leader/waves/{wave_id}/adopt",
    status_code=201,
    tags=["leaders"],
)
def adopt(wave_id: int, body: schemas.AdoptIn, who: Caller) -> schemas.WavePageOut:
    with unit_of_work() as session:
        listing = pools.adopt_wave(
            session,
            user_id=who.user_id,
            wave_id=wave_id,
            community_id=body.community_id,
            pickup_point_id=body.pickup_point_id,
        )
        return _wave_page(session, listing.id)


@router.get("/leader/commission", tags=["leaders"])
def my_commission(who: Caller) -> schemas.WalletOut:
    """Commission frozen, available and withdrawn, each line traceable to its order."""
    with unit_of_work() as session:
        leader = communities.get_leader_by_user(session, who.user_id)
        wallet = commission.wallet(session, leader.id)
        return schemas.WalletOut.model_construct(
            frozen=wallet.frozen,
            available=wallet.available,
            withdrawing=wallet.withdrawing,
            withdrawn=wallet.withdrawn,
            history=[schemas.CommissionOut.of(c) for c in commission.history(session, leader.id)],
            withdrawals=[
                schemas.WithdrawalOut.of(w)
                for w in commission.withdrawals(session, leader_id=leader.id)
            ],
        )


@router.post(
    "/leader/withdrawals", status_code=201, tags=["leaders"], response_model=schemas.WithdrawalOut
)
def withdraw(
    body: schemas.WithdrawalIn, request: Request, who: Caller, key: IdemKey = None
) -> JSONResponse:
    def work(session: Session) -> dict[str, Any]:
        leader = communities.get_leader_by_user(session, who.user_id)
        row = commission.request_withdrawal(
            session, leader_id=leader.id, amount=body.amount, account_note=body.account_note
        )
        return schemas.WithdrawalOut.of(row).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


# ---------------------------------------------------------------- suppliers and operators


@router.post("/supplier/waves", status_code=201, tags=["supplier"])
def offer(body: schemas.WaveIn, who: SupplierStaff) -> schemas.WaveWithItemsOut:
    """Offer a catalogue wave to leaders, with the commission rate you pay them."""
    assert who.supplier_id is not None
    with unit_of_work() as session:
        wave = pools.create_catalogue_wave(
            session, user_id=who.user_id, supplier_id=who.supplier_id, data=body.data()
        )
        return schemas.WaveWithItemsOut.with_items(wave, _items(session, wave.id))


@router.get("/supplier/waves", tags=["supplier"])
def supplier_waves(who: SupplierStaff) -> list[schemas.WaveOut]:
    assert who.supplier_id is not None
    with unit_of_work(readonly=True) as session:
        return [schemas.WaveOut.of(w) for w in pools.waves_of_supplier(session, who.supplier_id)]


def _purchase_order(session: Session, wave_id: int, who: Any) -> dict[str, Any]:
    if who.role not in ("supplier", "operator"):  # before any look-up: ids are no one's business
        raise Forbidden("purchase orders are for the supplier and operators")
    wave = pools.get_wave(session, wave_id)
    if who.role == "supplier" and who.supplier_id != wave.supplier_id:
        raise errors.WaveNotFound()  # another supplier's wave: as if there were none
    return pools.purchase_order(session, wave_id)


@router.get("/supplier/waves/{wave_id}/purchase-order", tags=["supplier"])
def purchase_order(wave_id: int, who: Caller) -> schemas.PurchaseOrderOut:
    """One purchase order per wave: quantity per SKU, split per pickup point."""
    with unit_of_work(readonly=True) as session:
        po = _purchase_order(session, wave_id, who)
        return schemas.PurchaseOrderOut.model_validate(
            {**po, "cutoff_at": clock.iso(po["cutoff_at"])}
        )


@router.get("/admin/waves", tags=["operator: waves"])
def all_waves(who: Operator, supplier_id: int | None = None) -> list[schemas.WaveOut]:
    with unit_of_work(readonly=True) as session:
        if supplier_id is not None:
            return [schemas.WaveOut.of(w) for w in pools.waves_of_supplier(session, supplier_id)]
        return [schemas.WaveOut.of(w) for w in pools.all_waves(session)]


@router.get("/admin/withdrawals", tags=["operator: waves"])
def pending_withdrawals(
    who: Operator, status: str | None = "requested"
) -> list[schemas.WithdrawalOut]:
    with unit_of_work(readonly=True) as session:
        return [schemas.WithdrawalOut.of(w) for w in commission.withdrawals(session, status=status)]


@router.post(
    "/admin/withdrawals/{withdrawal_id}/approve",
    tags=["operator: waves"],
)
def approve_withdrawal(withdrawal_id: int, who: Operator) -> schemas.WithdrawalOut:
    with unit_of_work() as session:
        return schemas.WithdrawalOut.of(
            commission.decide_withdrawal(
                session, withdrawal_id=withdrawal_id, operator_id=who.user_id, approve=True
            )
        )


@router.post(
    "/admin/withdrawals/{withdrawal_id}/reject",
    tags=["operator: waves"],
)
def reject_withdrawal(
    withdrawal_id: int, body: schemas.DecisionIn, who: Operator
) -> schemas.WithdrawalOut:
    with unit_of_work() as session:
        return schemas.WithdrawalOut.of(
            commission.decide_withdrawal(
                session,
                withdrawal_id=withdrawal_id,
                operator_id=who.user_id,
                approve=False,
                reason=body.reason,
            )
        )
