"""The operator's outgoing webhooks (``/ops/webhooks``): the endpoints with their queues, a
form for a new one; an endpoint's page edits it, pauses and resumes it, rotates its secret
(shown once, as at its creation), sends a test event, and shows its delivery log (status,
attempts, the receiver's status codes) with a replay button on each delivered or failed
delivery. Every handler calls the same service as the API's ``/api/admin/webhooks``."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.web import i18n
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import _ctx, _done
from tuangou.web.session import Form, PageOperator
from tuangou.web.templating import render, translate
from tuangou.webhooks import service as webhooks

router = APIRouter(prefix="/ops/webhooks")

DELIVERY_STATUSES = {
    "pending": i18n.lazy("Waiting to be sent"),
    "delivered": i18n.lazy("Delivered"),
    "failed": i18n.lazy("Failed"),
}
DONE = {
    "saved": i18n.lazy("Saved."),
    "test": i18n.lazy("A test event is queued: it is sent within seconds."),
    "replayed": i18n.lazy("Queued to be sent again, with the same event id."),
}
# The topics in groups, by what they are about (the part before the dot).
GROUPS = {
    "order": i18n.lazy("Orders and payments"),
    "team": i18n.lazy("Team buys"),
    "wave": i18n.lazy("Waves and pickup"),
    "leader": i18n.lazy("Leaders"),
    "community": i18n.lazy("Community"),
}
GROUP_OF = {
    "order": "order",
    "payment": "order",
    "refund": "order",
    "aftersale": "order",
    "team": "team",
    "wave": "wave",
    "pickup": "wave",
    "leader": "leader",
    "commission": "leader",
    "withdrawal": "leader",
}


def _groups() -> list[tuple[Any, list[str]]]:
    found: dict[str, list[str]] = {key: [] for key in GROUPS}
    for topic in webhooks.TOPICS:
        found[GROUP_OF.get(topic.split(".", 1)[0], "community")].append(topic)
    return [(GROUPS[key], topics) for key, topics in found.items()]


def _flash(request: Request) -> dict[str, Any]:
    done = request.query_params.get("done", "")
    return {"flash": translate(request, DONE[done])} if done in DONE else {}


def _topics(form: Any) -> list[str]:
    return [str(t) for t in form.getlist("topics") if isinstance(t, str)]


@router.get("")
def endpoints(request: Request, who: PageOperator) -> Response:
    return _list_page(request)


def _list_page(
    request: Request, form: FormState | None = None, chosen: list[str] | None = None
) -> Response:
    def load(session: Session) -> tuple[list[webhooks.EndpointView], dict[int, dict[str, int]]]:
        return webhooks.list_endpoints(session), webhooks.counts(session)

    found, counts = read(load)
    return render(
        request,
        "operator/webhooks.html",
        _ctx(
            request,
            endpoints=found,
            counts=counts,
            form=form or FormState.of(active="1"),
            chosen=chosen or [],
            groups=_groups(),
            delivery_statuses=DELIVERY_STATUSES,
            **_flash(request),
        ),
        status_code=400 if form and not form.ok else 200,
    )


@router.post("")
def create(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    chosen = _topics(form)
    state.required(request, "url")
    if not chosen:
        state.add(request, "topics", "Choose at least one topic")
    if state.ok:
        try:
            view, secret = run_in_transaction(
                lambda s: webhooks.create_endpoint(
                    s,
                    url=state.text("url"),
                    topics=chosen,
                    description=state.text("description"),
                    active=bool(state.text("active")),
                    operator_id=who.user_id,
                )
            )
        except DomainError as exc:
            field = {"webhook_topics_invalid": "topics"}.get(exc.code, "url")
            state.refuse(request, exc, field)
        else:
            return _endpoint_page(request, view.id, secret=secret, status=201)
    return _list_page(request, state, chosen)


def _endpoint_page(
    request: Request,
    endpoint_id: int,
    *,
    form: FormState | None = None,
    secret: str | None = None,
    status: int = 200,
) -> Response:
    def load(session: Session) -> tuple[webhooks.EndpointView, list[webhooks.DeliveryView]]:
        return webhooks.get_endpoint(session, endpoint_id), webhooks.deliveries(
            session, endpoint_id, limit=50
        )

    endpoint, log = read(load)
    if form is None:
        form = FormState.of(url=endpoint.url, description=endpoint.description)
        chosen = endpoint.topics
    else:
        chosen = list(form.values.get("_topics", endpoint.topics))
    return render(
        request,
        "operator/webhook.html",
        _ctx(
            request,
            e=endpoint,
            log=log,
            form=form,
            chosen=chosen,
            groups=_groups(),
            secret=secret,
            delivery_statuses=DELIVERY_STATUSES,
            **_flash(request),
        ),
        status_code=status,
    )


@router.get("/{endpoint_id}")
def endpoint(endpoint_id: int, request: Request, who: PageOperator) -> Response:
    return _endpoint_page(request, endpoint_id)


@router.post("/{endpoint_id}")
def save(endpoint_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    chosen = _topics(form)
    state.values["_topics"] = chosen
    state.required(request, "url")
    if not chosen:
        state.add(request, "topics", "Choose at least one topic")
    if state.ok:
        try:
            run_in_transaction(
                lambda s: webhooks.update_endpoint(
                    s,
                    endpoint_id,
                    url=state.text("url"),
                    topics=chosen,
                    description=state.text("description"),
                )
            )
            return _done(f"/ops/webhooks/{endpoint_id}", "saved")
        except DomainError as exc:
            field = {"webhook_topics_invalid": "topics"}.get(exc.code, "url")
            state.refuse(request, exc, field)
    return _endpoint_page(request, endpoint_id, form=state, status=400)


@router.post("/{endpoint_id}/active")
def set_active(endpoint_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    on = FormState.of(form).text("on") == "1"
    run_in_transaction(lambda s: webhooks.update_endpoint(s, endpoint_id, active=on))
    return _done(f"/ops/webhooks/{endpoint_id}", "saved")


@router.post("/{endpoint_id}/rotate")
def rotate(endpoint_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    _, secret = run_in_transaction(lambda s: webhooks.rotate_secret(s, endpoint_id))
    return _endpoint_page(request, endpoint_id, secret=secret)


@router.post("/{endpoint_id}/test")
def test_event(endpoint_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    run_in_transaction(lambda s: webhooks.send_test(s, endpoint_id))
    return _done(f"/ops/webhooks/{endpoint_id}#log", "test")


@router.post("/{endpoint_id}/deliveries/{delivery_id}/replay")
def replay(
    endpoint_id: int, delivery_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    # A second click finds it queued again already: the log shows it waiting.
    with suppress(webhooks.NotReplayable):
        run_in_transaction(lambda s: webhooks.replay(s, delivery_id))
    return _done(f"/ops/webhooks/{endpoint_id}#log", "replayed")
