"""Co-creation pages (共创), phone first: a community's proposals with their progress toward
the threshold, the propose form (a photo, a preview before sending), a proposal with its
vote and pledge, and what became of it; for the leader, the proposals ready to convert, the
convert form and the community's threshold.

Pages are thin: they call ``cocreate.service`` as the API does; forms that create something
carry a one-time key (:mod:`tuangou.web.once`), so a double submit does it once.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tuangou.cocreate import errors as co_errors
from tuangou.cocreate import rules as co_rules
from tuangou.cocreate import service as cocreate
from tuangou.communities import errors as community_errors
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.photos import rules as photo_rules
from tuangou.pools import service as pools
from tuangou.web import errors, once, session
from tuangou.web.forms import FormState
from tuangou.web.i18n import lazy
from tuangou.web.pages.leader import PageLeader, _local_datetime
from tuangou.web.pages.photos import form_photos, upload_all
from tuangou.web.pages.supplier import PageSupplier, percent_to_bps
from tuangou.web.session import Form, PageUser
from tuangou.web.templating import render

router = APIRouter()

STATUS_WORDS = {
    "open": lazy("Collecting votes"),
    "ready": lazy("Ready to become a wave"),
    "converted": lazy("Became a pre-sale wave"),
    "archived": lazy("Archived"),
    "withdrawn": lazy("Withdrawn by its author"),
}
TABS = ("", "open", "ready", "converted")


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _card(
    db: Any, p: Any, viewer_id: int, settings: Any, photo_map: dict[int, list[Any]]
) -> dict[str, Any]:
    vote = cocreate.vote_of(db, p.id, viewer_id)
    votes_pct = min(100, p.votes * 100 // max(settings.votes, 1))
    units_pct = min(100, p.pledged * 100 // max(settings.units, 1))
    return {
        "p": p,
        "photo": (photo_map.get(p.id) or [None])[0],
        "votes_pct": votes_pct,
        "units_pct": units_pct,
        "my_pledge": vote.pledge if vote is not None else None,
        "status": STATUS_WORDS.get(p.status, p.status),
    }


# ---------------------------------------------------------------- members


@router.get("/communities/{community_id}/proposals")
def proposals_page(request: Request, community_id: int, who: PageUser) -> Response:
    status = request.query_params.get("status", "")
    status = status if status in TABS else ""
    cursor_text = request.query_params.get("cursor", "")
    cursor = int(cursor_text) if cursor_text.isdigit() else None
    with unit_of_work(readonly=True) as db:
        rows, more = cocreate.proposals_of(
            db,
            community_id=community_id,
            user_id=who.user_id,
            operator=who.role == "operator",
            status=status or None,
            cursor=cursor,
        )
        community = communities.get_community(db, community_id)
        settings = cocreate.settings_of(db, community_id)
        photo_map = cocreate.photos_of(db, [p.id for p in rows])
        cards = [_card(db, p, who.user_id, settings, photo_map) for p in rows]
        member = communities.is_member(db, community_id, who.user_id)
    return render(
        request,
        "member/cocreate/list.html",
        {
            "community": community,
            "cards": cards,
            "settings": settings,
            "status": status,
            "tabs": TABS,
            "status_words": STATUS_WORDS,
            "more": more,
            "member": member,
        },
    )


def _new_context(request: Request, community_id: int, who: Any) -> dict[str, Any]:
    with unit_of_work(readonly=True) as db:
        community = communities.get_community(db, community_id)
        if not communities.is_member(db, community_id, who.user_id):
            raise community_errors.CommunityNotFound()
    return {
        "community": community,
        "key": once.new_key(),
        "limits": {
            "title": co_rules.TITLE_MAX,
            "description": co_rules.DESCRIPTION_MAX,
            "hint": co_rules.HINT_MAX,
        },
    }


@router.get("/communities/{community_id}/proposals/new")
def new_page(request: Request, community_id: int, who: PageUser) -> Response:
    session.require_buyer(request)
    context = _new_context(request, community_id, who)
    title = request.query_params.get("title", "")[: co_rules.TITLE_MAX]
    context["form"] = FormState.of(None, title=title) if title else FormState()
    return render(request, "member/cocreate/new.html", context)


@router.post("/communities/{community_id}/proposals/new")
async def propose(request: Request, community_id: int, form: Form) -> Response:
    files = await form_photos(form, "photo")
    return await run_in_threadpool(_propose, request, community_id, form, files)


def _propose(
    request: Request, community_id: int, form: Any, files: list[tuple[str, bytes]]
) -> Response:
    who = session.require_buyer(request)
    context = _new_context(request, community_id, who)
    state = FormState.of(form)
    state.required(request, "title")
    state.at_most(request, "title", co_rules.TITLE_MAX)
    state.at_most(request, "description", co_rules.DESCRIPTION_MAX)
    state.at_most(request, "supplier_hint", co_rules.HINT_MAX)
    price = state.fen(request, "target_price")
    if len(files) > co_rules.PHOTOS_PER_PROPOSAL:
        state.add(request, "photo", "Attach one photo")
    for _, data in files:
        if len(data) > photo_rules.MAX_BYTES:
            state.add(request, "photo", "A photo may be at most 5 MB")
    context["form"] = state
    if state.ok and price is not None and state.get("action") == "preview":
        context["preview"] = {
            "title": state.text("title"),
            "description": state.text("description"),
            "target_price": price,
            "supplier_hint": state.text("supplier_hint"),
        }
        context["key"] = state.get("idem") or context["key"]
        return render(request, "member/cocreate/new.html", context)
    if state.ok and price is not None:
        title, description = state.text("title"), state.text("description")
        hint = state.text("supplier_hint")
        body = {
            "community_id": community_id,
            "title": title,
            "description": description,
            "target_price": price,
            "supplier_hint": hint,
            "photos": len(files),
        }

        def work(db: Any) -> dict[str, Any]:
            ids = upload_all(db, who.user_id, files)
            p = cocreate.propose(
                db,
                user_id=who.user_id,
                community_id=community_id,
                title=title,
                description=description,
                target_price=price,
                supplier_hint=hint,
                photo_ids=ids,
            )
            return {"id": p.id}

        try:
            made = once.do(request, who, state.get("idem"), body, work)
            return _redirect(f"/proposals/{made['id']}?done=proposed")
        except DomainError as exc:
            field = str(exc.extra.get("field") or "")
            target = {"photo_ids": "photo", "photo": "photo"}.get(field, field or "_form")
            if target not in ("title", "description", "target_price", "supplier_hint", "photo"):
                target = "_form"
            state.refuse(request, exc, target)
            if target != "_form" and target not in state.errors:
                state.errors[target] = errors.message(request, exc)
    return render(request, "member/cocreate/new.html", context, status_code=400)


def _proposal_context(request: Request, proposal_id: int, who: Any) -> dict[str, Any]:
    with unit_of_work(readonly=True) as db:
        p = cocreate.visible_proposal(
            db, proposal_id, user_id=who.user_id, operator=who.role == "operator"
        )
        settings = cocreate.settings_of(db, p.community_id)
        card = _card(db, p, who.user_id, settings, cocreate.photos_of(db, [p.id]))
        community = communities.get_community(db, p.community_id)
        outcome = cocreate.outcome(db, p)
        when = cocreate.eligible_from(db, who.user_id) if who.role == "member" else None
        author = communities.people(db, [p.author_id]).get(p.author_id)
        member = communities.is_member(db, p.community_id, who.user_id)
        leads = cocreate.is_leader_of(db, who.user_id, p.community_id)
    return {
        "card": card,
        "p": p,
        "settings": settings,
        "community": community,
        "outcome": outcome,
        "eligible_from": when,
        "author": author,
        "member": member,
        "leads": leads,
        "done": request.query_params.get("done", ""),
        "max_pledge": co_rules.MAX_PLEDGE,
    }


@router.get("/proposals/{proposal_id}")
def proposal_page(request: Request, proposal_id: int, who: PageUser) -> Response:
    context = _proposal_context(request, proposal_id, who)
    context["form"] = FormState(values={"pledge": "1"})
    return render(request, "member/cocreate/proposal.html", context)


def _act(request: Request, proposal_id: int, form: Any, action: str) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    pledge = 0
    if action == "vote" and state.text("pledge"):
        pledge = state.integer(request, "pledge", low=0, high=co_rules.MAX_PLEDGE) or 0
    if state.ok:
        try:
            if action == "vote":
                run_in_transaction(
                    lambda db: cocreate.vote(
                        db, user_id=who.user_id, proposal_id=proposal_id, pledge=pledge
                    )
                )
            elif action == "unvote":
                run_in_transaction(
                    lambda db: cocreate.unvote(db, user_id=who.user_id, proposal_id=proposal_id)
                )
            else:
                run_in_transaction(
                    lambda db: cocreate.withdraw(db, user_id=who.user_id, proposal_id=proposal_id)
                )
            return _redirect(f"/proposals/{proposal_id}?done={action}")
        except DomainError as exc:
            if exc.status == 404:
                raise
            state.refuse(request, exc)
    context = _proposal_context(request, proposal_id, who)
    context["form"] = state
    return render(request, "member/cocreate/proposal.html", context, status_code=400)


@router.post("/proposals/{proposal_id}/vote")
def vote(request: Request, proposal_id: int, form: Form) -> Response:
    return _act(request, proposal_id, form, "vote")


@router.post("/proposals/{proposal_id}/unvote")
def unvote(request: Request, proposal_id: int, form: Form) -> Response:
    return _act(request, proposal_id, form, "unvote")


@router.post("/proposals/{proposal_id}/withdraw")
def withdraw(request: Request, proposal_id: int, form: Form) -> Response:
    return _act(request, proposal_id, form, "withdraw")


# ---------------------------------------------------------------- leaders


@router.get("/leader/proposals")
def ready_page(request: Request, me: PageLeader) -> Response:
    with unit_of_work(readonly=True) as db:
        ready = cocreate.ready_for_leader(db, me.who.user_id)
        names = {c.id: c.name for c in communities.communities_led_by(db, me.leader.id)}
        photo_map = cocreate.photos_of(db, [p.id for p in ready])
    return render(
        request,
        "leader/cocreate/ready.html",
        {
            "ready": [
                (p, names.get(p.community_id, ""), (photo_map.get(p.id) or [None])[0])
                for p in ready
            ],
            "communities": names,
            "done": request.query_params.get("done", ""),
        },
    )


def _convert_context(request: Request, proposal_id: int, me: Any) -> dict[str, Any]:
    with unit_of_work(readonly=True) as db:
        p = cocreate.get_proposal(db, proposal_id)
        if not cocreate.is_leader_of(db, me.who.user_id, p.community_id):
            raise co_errors.ProposalNotFound()
        skus = pools.sku_choices(db, me.leader.id)
        points = communities.pickup_points_of(db, me.leader.id, active_only=True)
        settings = cocreate.settings_of(db, p.community_id)
    return {
        "p": p,
        "skus": skus,
        "points": points,
        "settings": settings,
        "max_moq": co_rules.max_moq(p.pledged),
        "key": once.new_key(),
    }


def _defaults(p: Any) -> dict[str, str]:
    local_now = clock.to_local(clock.now())
    cutoff = (local_now + timedelta(days=2)).replace(hour=20, minute=0, second=0, microsecond=0)
    return {
        "title": p.title,
        "price": f"{p.target_price / 100:.2f}",
        "moq": str(co_rules.max_moq(p.pledged)),
        "stock": str(max(co_rules.max_moq(p.pledged) * 2, 10)),
        "per_member_limit": "10",
        "cutoff_at": cutoff.strftime("%Y-%m-%dT%H:%M"),
        "delivery_date": (cutoff.date() + timedelta(days=1)).isoformat(),
    }


@router.get("/leader/proposals/{proposal_id}/convert")
def convert_page(request: Request, proposal_id: int, me: PageLeader) -> Response:
    context = _convert_context(request, proposal_id, me)
    context["form"] = FormState(values=_defaults(context["p"]))
    return render(request, "leader/cocreate/convert.html", context)


@router.post("/leader/proposals/{proposal_id}/convert")
def convert(request: Request, proposal_id: int, form: Form, me: PageLeader) -> Response:
    context = _convert_context(request, proposal_id, me)
    state = FormState.of(form)
    point = state.integer(request, "pickup_point_id", low=1)
    data = _wave_terms(request, state, context["max_moq"], pickup_point_id=point)
    context["form"] = state
    if data is not None and point:
        body = {"proposal_id": proposal_id, **{k: str(v) for k, v in vars(data).items()}}

        def work(db: Any) -> dict[str, Any]:
            p = cocreate.convert(db, user_id=me.who.user_id, proposal_id=proposal_id, data=data)
            return {"listing_id": p.listing_id}

        try:
            done = once.do(request, me.who, state.get("idem"), body, work)
            return _redirect(f"/leader/waves/{done['listing_id']}?done=published")
        except DomainError as exc:
            _refuse_terms(request, state, exc)
    return render(request, "leader/cocreate/convert.html", context, status_code=400)


def _wave_terms(
    request: Request,
    state: FormState,
    max_moq: int,
    *,
    pickup_point_id: int | None = 0,
    commission_bps: int | None = None,
) -> cocreate.ConvertInput | None:
    """The terms of the wave a proposal becomes, read from the conversion form (the leader's
    or a linked supplier's); None when a field is refused (the form says which)."""
    sku = state.integer(request, "sku_id", low=1)
    price = state.fen(request, "price")
    moq = state.integer(request, "moq", low=1, high=max_moq)
    stock = state.integer(request, "stock", low=1, high=1_000_000)
    limit = state.integer(request, "per_member_limit", low=1, high=999)
    cutoff = _local_datetime(state.text("cutoff_at"))
    if cutoff is None:
        state.add(request, "cutoff_at", "Choose a date and time")
    try:
        delivery: date | None = date.fromisoformat(state.text("delivery_date"))
    except ValueError:
        delivery = None
        state.add(request, "delivery_date", "Choose a date")
    if not state.ok or pickup_point_id is None:
        return None
    assert sku and price and moq and stock and limit and cutoff and delivery
    return cocreate.ConvertInput(
        sku_id=sku,
        price=price,
        moq=moq,
        stock=stock,
        per_member_limit=limit,
        cutoff_at=cutoff,
        delivery_date=delivery,
        pickup_point_id=pickup_point_id,
        title=state.text("title"),
        commission_bps=commission_bps,
    )


_TERM_FIELDS = {
    "items[0].price": "price",
    "items[0].moq": "moq",
    "items[0].stock": "stock",
    "commission_bps": "commission",
}
_TERMS = ("price", "moq", "stock", "cutoff_at", "delivery_date", "title", "commission")


def _refuse_terms(request: Request, state: FormState, exc: DomainError) -> None:
    """A conversion's refusal, shown beside the term it names (else above the form); a
    missing proposal stays a 404 page."""
    if exc.status == 404 and not exc.extra.get("field"):
        raise exc
    field = str(exc.extra.get("field") or "_form")
    field = _TERM_FIELDS.get(field, field)
    state.refuse(request, exc, field if field in _TERMS else "_form")
    if field in _TERMS and field not in state.errors:
        state.errors[field] = errors.message(request, exc)


@router.get("/leader/communities/{community_id}/cocreate")
def settings_page(request: Request, community_id: int, me: PageLeader) -> Response:
    with unit_of_work(readonly=True) as db:
        s = cocreate.leader_settings(db, user_id=me.who.user_id, community_id=community_id)
        community = communities.get_community(db, community_id)
    values = {"votes": str(s.votes), "units": str(s.units), "early_hours": str(s.early_hours)}
    return render(
        request,
        "leader/cocreate/settings.html",
        {
            "community": community,
            "form": FormState(values=values),
            "bounds": co_rules,
            "done": request.query_params.get("done", ""),
        },
    )


@router.post("/leader/communities/{community_id}/cocreate")
def save_settings(request: Request, community_id: int, form: Form, me: PageLeader) -> Response:
    state = FormState.of(form)
    votes = state.integer(request, "votes", low=co_rules.MIN_VOTES, high=co_rules.MAX_VOTES)
    units = state.integer(request, "units", low=co_rules.MIN_UNITS, high=co_rules.MAX_UNITS)
    early = state.integer(request, "early_hours", low=0, high=co_rules.MAX_EARLY_HOURS)
    if state.ok and votes is not None and units is not None and early is not None:
        try:
            run_in_transaction(
                lambda db: cocreate.set_settings(
                    db,
                    user_id=me.who.user_id,
                    community_id=community_id,
                    votes=votes,
                    units=units,
                    early_hours=early,
                )
            )
            return _redirect(f"/leader/communities/{community_id}/cocreate?done=saved")
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            state.refuse(request, exc)
    with unit_of_work(readonly=True) as db:
        community = communities.get_community(db, community_id)
    return render(
        request,
        "leader/cocreate/settings.html",
        {"community": community, "form": state, "bounds": co_rules, "done": ""},
        status_code=400,
    )


# ---------------------------------------------------------------- suppliers (共创需求)


def _supplier_skus(db: Any, supplier_id: int) -> list[dict[str, Any]]:
    from tuangou.catalog import service as catalog

    return [
        {"sku_id": sku.id, "title": catalog.goods_name(product.title, sku.name), "price": sku.price}
        for product in catalog.list_products(db, supplier_id=supplier_id)
        for sku in catalog.skus_of(db, product.id)
    ]


@router.get("/supplier/proposals")
def supplier_ready_page(request: Request, who: PageSupplier) -> Response:
    """共创需求: the ready proposals of the communities the operator linked the supplier to."""
    assert who.supplier_id is not None
    supplier_id = who.supplier_id
    with unit_of_work(readonly=True) as db:
        ready = cocreate.ready_for_supplier(db, supplier_id)
        linked = cocreate.communities_of_supplier(db, supplier_id)
        names = {cid: communities.get_community(db, cid).name for cid in linked}
        photo_map = cocreate.photos_of(db, [p.id for p in ready])
    return render(
        request,
        "supplier/proposals.html",
        {
            "ready": [
                (p, names.get(p.community_id, ""), (photo_map.get(p.id) or [None])[0])
                for p in ready
            ],
            "linked": names,
            "done": request.query_params.get("done", ""),
        },
    )


def _supplier_convert_context(proposal_id: int, who: Any) -> dict[str, Any]:
    with unit_of_work(readonly=True) as db:
        p = cocreate.supplier_proposal(db, who.supplier_id, proposal_id)
        community = communities.get_community(db, p.community_id)
        leader = communities.get_leader(db, community.leader_id)
        points = communities.pickup_points_of(db, leader.id, active_only=True)
        leader_name = communities.people(db, [leader.user_id])[leader.user_id].nickname
        skus = _supplier_skus(db, who.supplier_id)
        settings = cocreate.settings_of(db, p.community_id)
    return {
        "p": p,
        "community": community,
        "leader_name": leader_name,
        "point": points[0] if points else None,
        "skus": skus,
        "settings": settings,
        "max_moq": co_rules.max_moq(p.pledged),
        "key": once.new_key(),
    }


@router.get("/supplier/proposals/{proposal_id}/convert")
def supplier_convert_page(request: Request, proposal_id: int, who: PageSupplier) -> Response:
    context = _supplier_convert_context(proposal_id, who)
    context["form"] = FormState(values={**_defaults(context["p"]), "commission": "10"})
    return render(request, "supplier/convert.html", context)


@router.post("/supplier/proposals/{proposal_id}/convert")
def supplier_convert(request: Request, proposal_id: int, form: Form, who: PageSupplier) -> Response:
    """A linked supplier turns a ready proposal into a pre-sale wave of its own SKU: the
    community's leader is the wave's leader, at the leader's first open pickup point."""
    context = _supplier_convert_context(proposal_id, who)
    state = FormState.of(form)
    commission = percent_to_bps(state.text("commission"))
    if commission is None:
        state.add(request, "commission", "Enter a commission of 0 to 50 per cent")
    data = _wave_terms(request, state, context["max_moq"], commission_bps=commission)
    context["form"] = state
    if data is not None:
        body = {"proposal_id": proposal_id, **{k: str(v) for k, v in vars(data).items()}}
        supplier_id = who.supplier_id
        assert supplier_id is not None

        def work(db: Any) -> dict[str, Any]:
            p = cocreate.convert_as_supplier(
                db,
                user_id=who.user_id,
                supplier_id=supplier_id,
                proposal_id=proposal_id,
                data=data,
            )
            return {"wave_id": p.wave_id}

        try:
            once.do(request, who, state.get("idem"), body, work)
            return _redirect("/supplier/proposals?done=published")
        except DomainError as exc:
            _refuse_terms(request, state, exc)
    return render(request, "supplier/convert.html", context, status_code=400)
