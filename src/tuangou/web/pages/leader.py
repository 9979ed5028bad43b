"""The leader console (团长工作台), phone first: today, the pickup counter, communities, waves,
commission and credit. Every page is for an approved leader only; anyone else gets a page
that says so, with the way to apply.

Pages are thin: they call the same service functions as the API (``communities``, ``pools``,
``fulfilment``), which make the ownership checks; forms that create something carry a one-time
key run through :mod:`tuangou.web.once`, so a double submit does it once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tuangou.accounts.service import Principal
from tuangou.commission import service as commission
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError, InvalidInput
from tuangou.credit import rules as credit_rules
from tuangou.credit import service as credit
from tuangou.fulfilment import errors as fulfilment_errors
from tuangou.fulfilment import rules as fulfilment_rules
from tuangou.fulfilment import service as fulfilment
from tuangou.pools import errors as pool_errors
from tuangou.pools import export
from tuangou.pools import rules as pool_rules
from tuangou.pools import service as pools
from tuangou.quality import service as quality
from tuangou.web import errors, i18n, once, responses, session
from tuangou.web.forms import FormState
from tuangou.web.session import Form
from tuangou.web.templating import (
    absolute_url,
    fmt_money,
    language,
    list_separator,
    render,
    translate,
)

if TYPE_CHECKING:
    from tuangou.communities.models import Leader

router = APIRouter(prefix="/leader")

ITEM_ROWS = 3  # item rows on the publish form (empty rows are ignored)
FLASH = "leader_flash"
PICKUP_RESULT = "leader_pickup_result"


# ---------------------------------------------------------------- who may use the console


@dataclass(frozen=True)
class Me:
    who: Principal
    leader: Leader


class NotALeader(Exception):
    """A logged-in user who is not a leader opened the console (see :func:`not_a_leader`)."""


def _me(request: Request) -> Me:
    """The logged-in leader (a non-leader gets the page telling them how to become one)."""
    who = session.require(request)
    with unit_of_work(readonly=True) as db:
        leader = communities.find_leader_by_user(db, who.user_id)
    if leader is None:
        raise NotALeader()
    return Me(who, leader)


PageLeader = Annotated[Me, Depends(_me)]


def not_a_leader(request: Request, exc: Exception) -> Response:
    return render(request, "leader/not_leader.html", status_code=403)


def _page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    flash = request.session.pop(FLASH, None)
    if flash and "flash" not in context:
        context = {**context, "flash": flash[1], "flash_kind": flash[0]}
    return render(request, template, context, status_code=status)


def _flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session[FLASH] = [kind, message]


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# ---------------------------------------------------------------- today


@router.get("")
def today(request: Request, me: PageLeader) -> Response:
    now = clock.now()
    with unit_of_work(readonly=True) as db:
        open_waves: list[dict[str, Any]] = []
        recent: list[dict[str, Any]] = []
        names: dict[int, str] = {}
        for listing, wave in pools.listings_of_leader(db, me.leader.id):
            if listing.community_id not in names:
                names[listing.community_id] = communities.get_community(
                    db, listing.community_id
                ).name
            entry: dict[str, Any] = {
                "listing": listing,
                "wave": wave,
                "community": names[listing.community_id],
            }
            if wave.status == pools.WaveStatus.OPEN and wave.cutoff_at > now:
                entry["items"] = [pools.progress(i) for i in pools.items_of(db, wave.id)]
                open_waves.append(entry)
            elif len(recent) < 10:
                recent.append(entry)
        open_waves.sort(key=lambda e: e["wave"].cutoff_at)
        arrivals = fulfilment.arrivals_to_confirm(db, user_id=me.who.user_id)
        counters = [
            fulfilment.pickup_list(db, user_id=me.who.user_id, pickup_point_id=p.id)
            for p in communities.pickup_points_of(db, me.leader.id, active_only=True)
        ]
    return _page(
        request,
        "leader/today.html",
        {
            "leader": me.leader,
            "open_waves": open_waves,
            "recent": recent,
            "arrivals": arrivals,
            "counters": counters,
            "once": once.new_key(),
        },
    )


@router.post("/arrivals")
def confirm_arrival(request: Request, form: Form, me: PageLeader) -> Response:
    """确认收货: the goods of a wave arrived at the leader's pickup point."""
    state = FormState.of(form)
    wave_id = state.integer(request, "wave_id", low=1)
    point_id = state.integer(request, "pickup_point_id", low=1)
    if wave_id is None or point_id is None:
        raise InvalidInput()
    try:
        received = run_in_transaction(
            lambda db: fulfilment.receive(
                db, user_id=me.who.user_id, wave_id=wave_id, pickup_point_id=point_id
            )
        )
        _flash(
            request,
            translate(
                request,
                "Received. %(n)s members were sent their pickup code.",
                n=len(received.pickups),
            ),
        )
    except fulfilment_errors.AlreadyReceived:  # a double tap: it is done already
        _flash(request, translate(request, "These goods were already received."))
    return _redirect(f"/leader/pickup?point={point_id}")


# ---------------------------------------------------------------- the pickup counter


def _points(db: Session, me: Me) -> list[Any]:
    return communities.pickup_points_of(db, me.leader.id, active_only=True) or (
        communities.pickup_points_of(db, me.leader.id)
    )


@router.get("/pickup")
def pickup_counter(
    request: Request,
    me: PageLeader,
    point: int | None = None,
    phone_tail: str | None = None,
    name: str = "",
) -> Response:
    lookup: dict[str, Any] | None = None
    with unit_of_work(readonly=True) as db:
        points = _points(db, me)
        if point is not None:
            chosen = communities.require_own_pickup_point(db, me.leader.id, point)
        elif points:
            chosen = points[0]
        else:
            raise InvalidInput()
        today_list = fulfilment.pickup_list(db, user_id=me.who.user_id, pickup_point_id=chosen.id)
        result = request.session.pop(PICKUP_RESULT, None)
        choices = []
        if result and result.get("choices"):
            choices = [pools.get_wave(db, wid) for wid in result["choices"]]
        titles = {
            wid: pools.get_wave(db, wid).title
            for wid in {r["wave_id"] for r in today_list["uncollected"] + today_list["collected"]}
        }
        if phone_tail is not None:
            lookup = _lookup(request, db, me, chosen.id, phone_tail, name)
    return _page(
        request,
        "leader/pickup.html",
        {
            "points": points,
            "point": chosen,
            "pickups": today_list,
            "titles": titles,
            "result": result,
            "choices": choices,
            "form": FormState(),
            "once": once.new_key(),
            "lookup": lookup,
            "scan_max_bytes": fulfilment_rules.SCAN_MAX_BYTES,
        },
    )


def _lookup(
    request: Request, db: Session, me: Me, point_id: int, phone_tail: str, name: str
) -> dict[str, Any]:
    """A lookup for a member who lost their code: the matching orders waiting here."""
    form = FormState(values={"phone_tail": phone_tail, "name": name})
    rows: list[dict[str, Any]] = []
    if fulfilment_rules.phone_tail(phone_tail) is None:
        form.add(request, "phone_tail", "Type the last 4 digits of the phone")
    elif len(name) > fulfilment_rules.LOOKUP_NAME_MAX:
        form.add(request, "name", "Type part of the name, at most 40 characters")
    else:
        rows = fulfilment.lookup(
            db, user_id=me.who.user_id, pickup_point_id=point_id, phone_tail=phone_tail, name=name
        )
    return {"form": form, "rows": rows, "searched": form.ok}


def _items_text(request: Request, items: list[dict[str, Any]]) -> str:
    return list_separator(language(request)).join(f"{i['title']}×{i['quantity']}" for i in items)


def pickup_result(request: Request, code: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    """What the counter shows for a verification's outcome (a success or a problem)."""
    if status < 400:
        items = _items_text(request, list(body.get("items") or []))
        seq = body.get("seq")
        return {
            "ok": True,
            "code": code,
            "text": f"✓ {body.get('name', '')} · {items}",
            "detail": translate(request, "Chain No. %(seq)s", seq=seq) if seq else "",
        }
    kind = body.get("code")
    detail = ""
    choices: list[int] = []
    if kind == "pickup_code_used":
        text = translate(request, "Already picked up (%(time)s)", time=body.get("picked_up_local"))
        if body.get("name"):
            detail = str(body["name"])
    elif kind == "wrong_pickup_point":
        text = translate(request, "Not an order of this pickup point")
        other = body.get("pickup_point") or {}
        if other.get("name"):
            detail = translate(request, "Collected at: %(point)s", point=other["name"])
    elif kind == "pickup_code_length":
        n = body.get("digits") or fulfilment_rules.CODE_DIGITS
        text = translate(request, "A pickup code is %(n)s digits", n=n)
    elif kind == "pickup_not_found":
        text = translate(request, "This order is not waiting here any more")
    elif kind == "pickup_code_unknown":
        text = translate(request, "No order has this pickup code")
    elif kind == "pickup_code_refunded":
        text = translate(request, "This order was refunded: hand nothing over")
    elif kind == "pickup_code_ambiguous":
        text = translate(request, "This code waits in two waves here: choose the wave")
        choices = [int(w) for w in body.get("wave_ids") or []]
    else:
        text = translate(request, str(body.get("title") or "Request refused"))
    return {"ok": False, "code": code, "text": text, "detail": detail, "choices": choices}


_REFUSALS = (
    fulfilment_errors.PickupCodeUnknown,
    fulfilment_errors.PickupCodeUsed,
    fulfilment_errors.WrongPickupPoint,
    fulfilment_errors.PickupCodeRefunded,
    fulfilment_errors.PickupCodeAmbiguous,
    fulfilment_errors.PickupCodeLength,
    fulfilment_errors.PickupNotFound,
)


def _point_of(request: Request, state: FormState) -> int:
    point_id = state.integer(request, "pickup_point_id", low=1)
    if point_id is None:
        raise InvalidInput()
    return point_id


def _verified(v: fulfilment.Verified) -> dict[str, Any]:
    return {
        "result": "valid",
        "name": v.name,
        "items": [{"title": i["title"], "quantity": i["quantity"]} for i in v.items],
        "seq": v.seq,
        "order_id": v.order.id,
        "wave_id": v.pickup.wave_id,
    }


def _counter_verify(
    request: Request,
    state: FormState,
    me: Me,
    point_id: int,
    code: str,
    how: fulfilment_rules.HandOver,
) -> dict[str, Any]:
    """Verify a typed or scanned code exactly as the API does; what the counter shows."""
    wave_id = state.integer(request, "wave_id", low=1) if state.text("wave_id") else None

    def work(db: Session) -> dict[str, Any]:
        return _verified(
            fulfilment.verify(
                db,
                user_id=me.who.user_id,
                pickup_point_id=point_id,
                code=code,
                wave_id=wave_id,
                how=how,
            )
        )

    body = {"pickup_point_id": point_id, "code": code, "wave_id": wave_id}
    try:
        outcome = once.run(request, me.who, state.text("once"), body, work, per_values=True)
        status, answer = outcome.status_code, dict(outcome.body)
    except _REFUSALS as refusal:
        status, answer = refusal.status, refusal.to_problem()
    return pickup_result(request, code, status, answer)


@router.post("/pickup")
def verify_code(request: Request, form: Form, me: PageLeader) -> Response:
    """核销: verify a code exactly as the API does; the result is shown once, after a redirect."""
    state = FormState.of(form)
    point_id = _point_of(request, state)
    code = state.text("code")[:20]
    if not code:
        request.session[PICKUP_RESULT] = {
            "ok": False,
            "code": "",
            "text": translate(request, "Type or scan the pickup code"),
            "detail": "",
        }
        return _redirect(f"/leader/pickup?point={point_id}")
    request.session[PICKUP_RESULT] = _counter_verify(
        request, state, me, point_id, code, fulfilment_rules.HandOver.CODE
    )
    return _redirect(f"/leader/pickup?point={point_id}")


@router.post("/pickup/scan")
async def scan_code(request: Request, form: Form, me: PageLeader) -> Response:
    """A picture of the member's QR (a camera frame sent by the counter's script where the
    browser has no barcode detector, or a photo from the file field): decoded here, then
    verified exactly as a typed code. The script asks for JSON: ``found`` false while its
    frames show no QR, else where the result is shown."""
    picture = form.get("image")
    data = b""
    if isinstance(picture, UploadFile):
        data = await picture.read(fulfilment_rules.SCAN_MAX_BYTES + 1)
    return await run_in_threadpool(_scan, request, form, me, data)


def _scan(request: Request, form: Any, me: Me, data: bytes) -> Response:
    state = FormState.of(form)
    point_id = _point_of(request, state)
    with unit_of_work(readonly=True) as db:
        communities.require_own_pickup_point(db, me.leader.id, point_id)
    wants_json = "application/json" in request.headers.get("accept", "")
    back = f"/leader/pickup?point={point_id}"
    try:
        texts = fulfilment.decode_qr(data)
    except fulfilment_errors.PickupScanInvalid:
        texts, problem = [], translate(request, "The picture could not be read: take it again")
    else:
        problem = translate(request, "No pickup code QR in the picture: hold it steady, closer")
    if not texts:
        if wants_json:
            return JSONResponse({"found": False, "message": problem})
        request.session[PICKUP_RESULT] = {
            "ok": False,
            "code": "",
            "text": problem,
            "detail": "",
        }
        return _redirect(back)
    codes = [t for t in texts if fulfilment_rules.is_code(fulfilment_rules.normalise_code(t))]
    code = fulfilment_rules.normalise_code((codes or texts)[0])[:20]
    request.session[PICKUP_RESULT] = _counter_verify(
        request, state, me, point_id, code, fulfilment_rules.HandOver.SCAN
    )
    if wants_json:
        return JSONResponse({"found": True, "next": back})
    return _redirect(back)


@router.post("/pickup/hand-over")
def hand_over(request: Request, form: Form, me: PageLeader) -> Response:
    """Hand over the order chosen after a lookup by phone tail and name (the member lost
    their code): through the same verification, recorded as handed over by lookup."""
    state = FormState.of(form)
    point_id = _point_of(request, state)
    order_id = state.integer(request, "order_id", low=1)
    if order_id is None:
        raise InvalidInput()

    def work(db: Session) -> dict[str, Any]:
        return _verified(
            fulfilment.hand_over_found(
                db, user_id=me.who.user_id, pickup_point_id=point_id, order_id=order_id
            )
        )

    body = {"pickup_point_id": point_id, "order_id": order_id}
    try:
        outcome = once.run(request, me.who, state.text("once"), body, work, per_values=True)
        status, answer = outcome.status_code, dict(outcome.body)
    except _REFUSALS as refusal:
        status, answer = refusal.status, refusal.to_problem()
    request.session[PICKUP_RESULT] = pickup_result(request, "", status, answer)
    return _redirect(f"/leader/pickup?point={point_id}")


# ---------------------------------------------------------------- communities


def _communities_page(
    request: Request, me: Me, state: FormState | None = None, status: int = 200
) -> Response:
    with unit_of_work(readonly=True) as db:
        profile = communities.leader_profile(db, me.who.user_id)
    return _page(
        request,
        "leader/communities.html",
        {
            "profile": profile,
            "form": state or FormState(),
            "invitation_days": get_settings().sub_leader_invitation_days,
        },
        status=status,
    )


@router.get("/communities")
def my_communities(request: Request, me: PageLeader) -> Response:
    return _communities_page(request, me)


# ---------------------------------------------------------------- sub-leaders


@router.post("/sub-leaders")
def invite_sub_leader(request: Request, form: Form, me: PageLeader) -> Response:
    """Invite another leader, by their leader number, to become a sub-leader."""
    state = FormState.of(form)
    leader_id = state.integer(request, "leader_id", low=1, high=2**31 - 1)
    if leader_id is None:
        return _communities_page(request, me, state, status=400)
    try:
        run_in_transaction(lambda db: communities.invite_sub_leader(db, me.who.user_id, leader_id))
    except DomainError as exc:
        state.refuse(request, exc, "leader_id")
        return _communities_page(request, me, state, status=exc.status)
    _flash(request, translate(request, "Invitation sent. It counts once they accept it."))
    return _redirect("/leader/communities")


_ANSWERS = {
    "accept": (
        lambda db, uid, iid: communities.accept_invitation(db, uid, iid),
        i18n.lazy("You are now their sub-leader."),
    ),
    "decline": (
        lambda db, uid, iid: communities.decline_invitation(db, uid, iid),
        i18n.lazy("Invitation declined."),
    ),
    "cancel": (
        lambda db, uid, iid: communities.cancel_invitation(db, uid, iid),
        i18n.lazy("Invitation cancelled."),
    ),
}


@router.post("/sub-leader-invitations/{invitation_id}/{answer}")
def answer_invitation(
    request: Request, invitation_id: int, answer: str, form: Form, me: PageLeader
) -> Response:
    """Accept or decline an invitation received, or cancel one sent."""
    if answer not in _ANSWERS:
        raise InvalidInput("accept, decline or cancel", field="answer")
    action, done = _ANSWERS[answer]
    try:
        run_in_transaction(lambda db: action(db, me.who.user_id, invitation_id))
    except DomainError as exc:
        if exc.status == 404:
            raise
        _flash(request, errors.message(request, exc), "bad")
        return _redirect("/leader/communities")
    _flash(request, translate(request, done))
    return _redirect("/leader/communities")


@router.post("/upline/leave")
def leave_upline(request: Request, form: Form, me: PageLeader) -> Response:
    """Stop being a sub-leader (the page says what it means before the button)."""
    try:
        run_in_transaction(lambda db: communities.leave_upline(db, me.who.user_id))
    except DomainError as exc:
        _flash(request, errors.message(request, exc), "bad")
        return _redirect("/leader/communities")
    _flash(request, translate(request, "You left your leader. Your sales are yours alone now."))
    return _redirect("/leader/communities")


@router.get("/communities/{community_id}")
def community_page(request: Request, community_id: int, me: PageLeader) -> Response:
    with unit_of_work(readonly=True) as db:
        rows = communities.members(db, me.who.user_id, community_id)  # leader or admin only
        community = communities.get_community(db, community_id)
        waves = pools.listings_of_community(db, community_id)[:20]
    invite = absolute_url(request, f"/join/{community.invite_code}")
    return _page(
        request,
        "leader/community.html",
        {
            "community": community,
            "members": rows,
            "admins": [(m, p) for m, p in rows if m.role == "admin"],
            "invite": invite,
            "waves": waves,
            "is_leader": community.leader_id == me.leader.id,
        },
    )


@router.post("/communities/{community_id}/admins")
def set_admin(request: Request, community_id: int, form: Form, me: PageLeader) -> Response:
    """Name a member an admin, or take the role back (the community's leader only)."""
    state = FormState.of(form)
    member_id = state.integer(request, "user_id", low=1)
    if member_id is None:
        raise InvalidInput()
    admin = state.get("admin") == "1"
    run_in_transaction(
        lambda db: communities.set_admin(db, me.who.user_id, community_id, member_id, admin=admin)
    )
    _flash(request, translate(request, "Saved."))
    return _redirect(f"/leader/communities/{community_id}")


# ---------------------------------------------------------------- publishing a wave


def _percent(bps: int) -> str:
    return f"{bps / 100:.2f}".rstrip("0").rstrip(".") + "%"


def _terms(request: Request, choice: pools.SkuChoice) -> str:
    """The supplier's terms of a SKU as the leader's form shows them."""
    if choice.own:
        return translate(request, "your own goods")
    return translate(
        request,
        "from %(floor)s, commission up to %(most)s",
        floor=fmt_money(choice.floor_price),
        most=_percent(choice.max_commission_bps),
    )


def _choices(request: Request, db: Session, me: Me) -> dict[str, Any]:
    led = communities.communities_led_by(db, me.leader.id)
    points = communities.pickup_points_of(db, me.leader.id, active_only=True)
    return {
        "communities": led,
        "points": points,
        "community_options": [(c.id, c.name) for c in led],
        "point_options": [(p.id, p.name) for p in points],
        "sku_options": [
            (
                s.sku_id,
                f"{s.title} · {fmt_money(s.price)} · {s.supplier} · {_terms(request, s)}",
            )
            for s in pools.sku_choices(db, me.leader.id)
        ],
    }


def _publish_defaults() -> dict[str, Any]:
    tz = ZoneInfo(get_settings().timezone)
    local_now = clock.as_utc(clock.now()).astimezone(tz)
    cutoff = local_now.replace(hour=23, minute=0, second=0, microsecond=0)
    if cutoff <= local_now + timedelta(minutes=30):
        cutoff += timedelta(days=1)
    values: dict[str, Any] = {
        "commission": _percent(pool_rules.DEFAULT_COMMISSION_BPS).rstrip("%"),
        "cutoff_at": cutoff.strftime("%Y-%m-%dT%H:%M"),
        "delivery_date": (cutoff.date() + timedelta(days=1)).isoformat(),
    }
    for i in range(ITEM_ROWS):
        values[f"items[{i}].per_member_limit"] = "5"
        values[f"items[{i}].stock"] = "100"
    return values


def _publish_page(request: Request, me: Me, state: FormState, status: int = 200) -> Response:
    with unit_of_work(readonly=True) as db:
        choices = _choices(request, db, me)
    context = {"form": state, "rows": range(ITEM_ROWS), "once": once.new_key(), **choices}
    return _page(request, "leader/publish.html", context, status=status)


@router.get("/waves/new")
def publish_form(request: Request, me: PageLeader) -> Response:
    """The publish form; ``?title=&community_id=&sku_id=`` prefill it (a wave started from a
    wish of the demand insight)."""
    values = _publish_defaults()
    query = request.query_params
    for name, field in (
        ("title", "title"),
        ("community_id", "community_id"),
        ("sku_id", "items[0].sku_id"),
        ("title", "items[0].title"),
    ):
        if query.get(name):
            values[field] = query[name][:100]
    return _publish_page(request, me, FormState.of(None, **values))


_YUAN = re.compile(r"^\d+(\.\d{1,2})?$")
_ITEM_FIELD = re.compile(r"^items\[(\d+)\]\.(.+)$")
PUBLISH_FIELDS = {
    "title",
    "cutoff_at",
    "delivery_date",
    "community_id",
    "pickup_point_id",
    "commission",
}
ITEM_FIELDS = ("sku_id", "title", "price", "moq", "stock", "per_member_limit", "tiers")


def _yuan_to_fen(text: str) -> int | None:
    text = text.strip().lstrip("¥")
    if not _YUAN.match(text):
        return None
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def parse_tiers(text: str) -> list[tuple[int, int]] | None:
    """``30:23.90, 60:21.90`` (from a total of 30, ¥23.90 each); None if it cannot be read."""
    tiers: list[tuple[int, int]] = []
    for part in re.split(r"[,，;；\s]+", text.strip()):
        if not part:
            continue
        qty, sep, price = part.replace("：", ":").partition(":")
        fen = _yuan_to_fen(price) if sep else None
        if not qty.isdigit() or fen is None:
            return None
        tiers.append((int(qty), fen))
    return tiers


def _local_datetime(text: str) -> datetime | None:
    """A ``datetime-local`` value in the deployment's time zone, as a stored (naive UTC) time."""
    try:
        local = datetime.strptime(text.strip()[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    aware = local.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return clock.as_utc(aware).replace(tzinfo=None)


def _read_wave(request: Request, state: FormState) -> tuple[pools.WaveInput | None, list[int]]:
    """The wave typed on the form (None with field errors), and the form row of each item."""
    state.required(request, "title")
    cutoff = _local_datetime(state.text("cutoff_at"))
    if cutoff is None:
        state.add(request, "cutoff_at", "Choose a date and time")
    try:
        delivery: date | None = date.fromisoformat(state.text("delivery_date"))
    except ValueError:
        delivery = None
        state.add(request, "delivery_date", "Choose a date")
    items: list[pools.ItemInput] = []
    rows: list[int] = []
    for i in range(ITEM_ROWS):
        name = f"items[{i}]."
        if not any(state.text(name + f) for f in ("sku_id", "price", "moq", "tiers", "title")):
            continue
        sku = None
        if state.text(name + "sku_id"):
            sku = state.integer(request, name + "sku_id", low=1)
        else:
            state.add(request, name + "sku_id", "Choose a product")
        price = state.fen(request, name + "price")
        moq = state.integer(request, name + "moq", low=1)
        stock = state.integer(request, name + "stock", low=1)
        limit = state.integer(request, name + "per_member_limit", low=1)
        tiers = parse_tiers(state.text(name + "tiers"))
        if tiers is None:
            state.add(request, name + "tiers", "Write tiers as quantity:price, like 30:23.90")
        if None in (sku, price, moq, stock, limit, tiers):
            continue
        assert sku and price and moq and stock and limit and tiers is not None
        items.append(
            pools.ItemInput(
                sku_id=sku,
                price=price,
                moq=moq,
                stock=stock,
                per_member_limit=limit,
                tiers=tiers,
                title=state.text(name + "title"),
            )
        )
        rows.append(i)
    if not items and state.ok:
        state.add(request, "items", "Add at least one product")
    typed = state.text("commission").rstrip("%").strip()  # per cent, two decimals at most
    commission_bps = _yuan_to_fen(typed) if typed else pool_rules.DEFAULT_COMMISSION_BPS
    if commission_bps is None or commission_bps > pool_rules.MAX_COMMISSION_BPS:
        state.add(request, "commission", "Enter a commission of 0 to 50 per cent")
    if not state.ok or cutoff is None or delivery is None or commission_bps is None:
        return None, rows
    wave = pools.WaveInput(
        title=state.text("title"),
        description=state.text("description"),
        cutoff_at=cutoff,
        delivery_date=delivery,
        items=items,
        commission_bps=commission_bps,
    )
    return wave, rows


def _refuse_field(request: Request, state: FormState, exc: DomainError, rows: list[int]) -> None:
    """A service's refusal next to its field; an item's index is mapped to its form row."""
    field = str(exc.extra.get("field") or "_form")
    if field == "commission_bps":  # the form asks for a percentage
        field = "commission"
    found = _ITEM_FIELD.match(field)
    if found and int(found.group(1)) < len(rows):
        field = f"items[{rows[int(found.group(1))]}].{found.group(2)}"
        if found.group(2) not in ITEM_FIELDS:
            field = "items"
    elif field not in PUBLISH_FIELDS and field != "items":
        field = "_form"
    state.errors.setdefault(field, errors.message(request, exc))


@router.post("/waves/new")
def publish(request: Request, form: Form, me: PageLeader) -> Response:
    state = FormState.of(form)
    community_id = state.integer(request, "community_id", low=1)
    point_id = state.integer(request, "pickup_point_id", low=1)
    wave, rows = _read_wave(request, state)
    if wave is None or community_id is None or point_id is None:
        return _publish_page(request, me, state, status=400)
    data = wave

    def work(db: Session) -> dict[str, Any]:
        _, listing = pools.publish_wave(
            db,
            user_id=me.who.user_id,
            community_id=community_id,
            pickup_point_id=point_id,
            data=data,
        )
        return {"listing_id": listing.id}

    body = {k: v for k, v in state.values.items() if k != "once"}
    try:
        outcome = once.run(request, me.who, state.text("once"), body, work, per_values=True)
    except DomainError as exc:
        _refuse_field(request, state, exc, rows)
        return _publish_page(request, me, state, status=exc.status if exc.status < 500 else 400)
    if once.replayed_refusal(request, state, outcome):
        return _publish_page(request, me, state, status=outcome.status_code)
    _flash(request, translate(request, "Published. Share the wave in your community."))
    return _redirect(f"/leader/waves/{outcome.body['listing_id']}")


# ---------------------------------------------------------------- the catalogue (帮卖)


def _catalogue_page(
    request: Request, me: Me, refusals: dict[int, str] | None = None, status: int = 200
) -> Response:
    with unit_of_work(readonly=True) as db:
        open_waves = pools.catalogue(db)
        # Each supplier's quality record (品控), shown before the leader adopts its wave.
        records = {
            r.supplier_id: r for r in quality.records(db, [w.supplier_id for w in open_waves])
        }
        waves = [
            {
                "wave": w,
                "items": [pools.progress(i) for i in pools.items_of(db, w.id)],
                "quality": records.get(w.supplier_id),
            }
            for w in open_waves
        ]
        mine = {
            (listing.wave_id, listing.community_id)
            for listing, _ in pools.listings_of_leader(db, me.leader.id)
        }
        led = communities.communities_led_by(db, me.leader.id)
        points = communities.pickup_points_of(db, me.leader.id, active_only=True)
    context = {
        "waves": waves,
        "adopted": mine,
        "communities": led,
        "points": points,
        "refusals": refusals or {},
    }
    return _page(request, "leader/catalogue.html", context, status=status)


@router.get("/catalogue")
def catalogue(request: Request, me: PageLeader) -> Response:
    return _catalogue_page(request, me)


@router.post("/catalogue/{wave_id}/adopt")
def adopt(request: Request, wave_id: int, form: Form, me: PageLeader) -> Response:
    """帮卖: resell a supplier's wave in one of the leader's communities (once per community:
    the service refuses a second adoption, so a double submit changes nothing)."""
    state = FormState.of(form)
    community_id = state.integer(request, "community_id", low=1)
    point_id = state.integer(request, "pickup_point_id", low=1)
    if community_id is None or point_id is None:
        return _catalogue_page(
            request, me, {wave_id: translate(request, "Choose a community")}, status=400
        )
    try:
        listing = run_in_transaction(
            lambda db: pools.adopt_wave(
                db,
                user_id=me.who.user_id,
                wave_id=wave_id,
                community_id=community_id,
                pickup_point_id=point_id,
            )
        )
    except pool_errors.AlreadyAdopted as exc:
        return _catalogue_page(request, me, {wave_id: errors.message(request, exc)}, status=409)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _catalogue_page(request, me, {wave_id: errors.message(request, exc)}, exc.status)
    _flash(request, translate(request, "Adopted. Share the wave in your community."))
    return _redirect(f"/leader/waves/{listing.id}")


# ---------------------------------------------------------------- one wave in one community


@router.post("/waves/{listing_id}/new-link")
def new_share_link(request: Request, listing_id: int, form: Form, me: PageLeader) -> Response:
    """换一个分享链接: the old link (one that leaked) shows nothing from now on."""
    run_in_transaction(
        lambda db: pools.new_share_link(db, user_id=me.who.user_id, listing_id=listing_id)
    )
    _flash(request, translate(request, "A new share link: the old one no longer opens the wave."))
    return _redirect(f"/leader/waves/{listing_id}")


@router.get("/waves/{listing_id}")
def wave_page(request: Request, listing_id: int, me: PageLeader) -> Response:
    with unit_of_work(readonly=True) as db:
        # The export's read is the leader's own orders of the listing: its check refuses
        # anyone but the listing's leader before anything is shown.
        rows = export.listing_order_rows(db, user_id=me.who.user_id, listing_id=listing_id)
        listing = pools.get_listing(db, listing_id)
        wave = pools.get_wave(db, listing.wave_id)
        community = communities.get_community(db, listing.community_id)
        point = communities.get_pickup_point(db, listing.pickup_point_id)
        items = [pools.progress(i) for i in pools.items_of(db, wave.id)]
        lang = "en" if language(request) == "en" else "zh"
        shared = pools.share_of_listing(
            db,
            user_id=me.who.user_id,
            listing_id=listing_id,
            base_url=absolute_url(request, ""),
            lang=lang,
        )
    return _page(
        request,
        "leader/wave.html",
        {
            "listing": listing,
            "share_url": shared.link,
            "share": shared,
            "wave": wave,
            "community": community,
            "point": point,
            "items": items,
            "rows": rows,
            "is_open": wave.status == pools.WaveStatus.OPEN and wave.cutoff_at > clock.now(),
            "status_label": lambda s: export.status_label(s, lang),
            "items_text": lambda r: export.items_text(r.items, lang),
            "last4": export.phone_last4,
            "lang": lang,
        },
    )


def _export(me: Me, listing_id: int, lang: str, kind: str) -> Response:
    """The same file as the API's export, for the logged-in leader of the listing."""
    with unit_of_work(readonly=True) as db:
        rows = export.listing_order_rows(db, user_id=me.who.user_id, listing_id=listing_id)
    write, media = (
        (export.orders_csv, export.CSV_MEDIA)
        if kind == "csv"
        else (export.orders_xlsx, export.XLSX_MEDIA)
    )
    body = write(rows, export.zone(), export.lang_of(lang))
    return responses.download(body, media, f"listing-{listing_id}-orders.{kind}")


@router.get("/waves/{listing_id}/orders.csv")
def wave_orders_csv(me: PageLeader, listing_id: int, lang: str = "zh") -> Response:
    return _export(me, listing_id, lang, "csv")


@router.get("/waves/{listing_id}/orders.xlsx")
def wave_orders_xlsx(me: PageLeader, listing_id: int, lang: str = "zh") -> Response:
    return _export(me, listing_id, lang, "xlsx")


# ---------------------------------------------------------------- money


def _money_page(request: Request, me: Me, state: FormState, status: int = 200) -> Response:
    with unit_of_work() as db:  # the wallet row is created on first sight
        wallet = commission.wallet(db, me.leader.id)
        history = commission.history(db, me.leader.id)
        labels = pools.order_labels(db, [c.order_id for c in history])
        withdrawals = commission.withdrawals(db, leader_id=me.leader.id)
    return _page(
        request,
        "leader/money.html",
        {
            "wallet": wallet,
            "history": history,
            "labels": labels,
            "withdrawals": list(reversed(withdrawals)),
            "form": state,
            "once": once.new_key(),
        },
        status=status,
    )


@router.get("/money")
def money(request: Request, me: PageLeader) -> Response:
    return _money_page(request, me, FormState())


@router.post("/money/withdraw")
def withdraw(request: Request, form: Form, me: PageLeader) -> Response:
    state = FormState.of(form)
    amount = state.fen(request, "amount")
    if amount is not None and amount <= 0:
        state.add(request, "amount", "Enter an amount above zero")
    note = state.text("account_note")
    if len(note) > 200:
        state.add(request, "account_note", "At most 200 characters")
    if not state.ok or amount is None:
        return _money_page(request, me, state, status=400)
    leader_id = me.leader.id
    fen = amount

    def work(db: Session) -> dict[str, Any]:
        row = commission.request_withdrawal(db, leader_id=leader_id, amount=fen, account_note=note)
        return {"withdrawal_id": row.id}

    try:
        body = {"amount": fen, "note": note}
        outcome = once.run(request, me.who, state.text("once"), body, work, per_values=True)
    except DomainError as exc:
        state.refuse(request, exc, "amount")
        return _money_page(request, me, state, status=exc.status)
    if once.replayed_refusal(request, state, outcome):
        return _money_page(request, me, state, status=outcome.status_code)
    _flash(request, translate(request, "Withdrawal requested. An operator will review it."))
    return _redirect("/leader/money")


# ---------------------------------------------------------------- credit


@router.get("/credit")
def credit_page(request: Request, me: PageLeader) -> Response:
    with unit_of_work(readonly=True) as db:
        score = credit.leader_credit(db, me.leader.id)
    en = language(request) == "en"
    parts = [
        {
            "name": p.name,
            "label": credit_rules.LABELS[p.name][1 if en else 0],
            "weight": p.weight,
            "points": p.points,
            "observed": None if p.observed is None else float(p.observed),
            "sample": p.sample,
            # How many of the sample were good (received on time, picked up) or bad (refunded,
            # complained about): the page says "3 of 4 orders", not a bare "4 单中 75%".
            "count": None if p.observed is None else round(p.observed * p.sample),
            "percent": round(100 * p.points / p.weight) if p.weight else 0,
        }
        for p in score.parts
    ]
    return _page(
        request,
        "leader/credit.html",
        {
            "score": score,
            "parts": parts,
            "leader": me.leader,
            "window_days": credit_rules.WINDOW_DAYS,
        },
    )
