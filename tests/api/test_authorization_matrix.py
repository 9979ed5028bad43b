# ruff: noqa: E501  (the matrix is a table: one route a line)
"""The authorization matrix: every API operation × every kind of caller, as one table.

One world holds the objects each caller owns (a member's team order, wave order, case and
notification; a leader's community, pickup point, listing and withdrawal; a supplier's SKU,
wave and purchase order). Each operation is called with the path ids of the *first* actor's
objects and a body valid enough to reach the route's checks, by each column's caller:

- ``anon``: nobody logged in;
- ``member`` and ``member2``: the member who owns the objects, and another member;
- ``leader`` and ``leader2``: the leader who owns the objects, and another leader;
- ``supplier`` and ``supplier2``: the supplier whose goods they are, and another supplier;
- ``operator``.

``ok`` means allowed: anything but 401, 403, 404 or a 5xx (a 409 or 422 business refusal is
fine, the caller got past the checks). A number is the exact status of the refusal:

- 401: nobody is logged in and the route is not public;
- 403: the caller's role may not do this at all (a member on an operator's route, a member who
  is not a leader on a leader's route, a staff account buying or leading: ``staff_account``),
  or the operator, who may know of every object, on one that is not theirs to act on;
- 404: an object of someone else's, which the caller may not know exists.

The roles behind this table are in docs/SECURITY.md, "Roles". The rows run in the order
written, each row's refusals before its allowed calls: the rows that end a relationship
the others rely on (leaving a team or a community, logging out everywhere) come last.

A route the application serves without a row here fails the test, and so does a row whose
route is gone: a new route adds one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.aftersales.conftest import png
from tests.api import count, execute, scalar
from tests.api import world as team_buy_world
from tests.api.test_roles import api_routes
from tests.conftest import Api, run_worker
from tests.fulfilment.conftest import World as Waves
from tuangou.core import clock

COLUMNS = ("anon", "member", "member2", "leader", "leader2", "supplier", "supplier2", "operator")

# The sandbox stands for the payment provider: it checks signatures instead of a log-in. Routes
# without a body in the world (the public writes among them) get {}: a 422 is "ok", nobody was
# refused. Lines starting with "#" are comments.
MATRIX = """
method path                                                          anon member member2 leader leader2 supplier supplier2 operator
GET    /api/noop                                                      ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/health                                                    ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/ready                                                     ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/auth/signup                                               ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/auth/login                                                ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/auth/code                                                 ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/auth/code/login                                           ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/campaigns                                                 ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/campaigns/{campaign_id}                                   ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/campaigns/{campaign_id}/teams                             ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/teams/{team_id}                                           ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/communities/invite/{code}                                 ok   ok     ok      ok     ok      ok       ok        ok
# A community's wave: its members, leader and operators, or whoever holds its share link.
GET    /api/listings/{listing_id}                                     404  ok     404     ok     404     404      404       ok
GET    /api/listings/{listing_id}/chain                               404  ok     404     ok     404     404      404       ok
GET    /api/sandbox/pay                                               ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/sandbox/pay                                               ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/payments/webhooks/sandbox                                 ok   ok     ok      ok     ok      ok       ok        ok
# The real gateways' notices: public, each checked by its gateway's signature.
POST   /api/payments/webhooks/wechat                                  ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/payments/webhooks/alipay                                  ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/sandbox/charges/{ref}                                     401  403    403     403    403     403      403       ok
GET    /api/me                                                        401  ok     ok      ok     ok      ok       ok        ok
PATCH  /api/me                                                        401  ok     ok      ok     ok      ok       ok        ok
GET    /api/notifications                                             401  ok     ok      ok     ok      ok       ok        ok
POST   /api/notifications/read                                        401  ok     ok      ok     ok      ok       ok        ok
# Marking a notification read marks only the caller's own: another's id changes nothing.
POST   /api/notifications/{notification_id}/read                      401  ok     ok      ok     ok      ok       ok        ok
# Message channels: each caller's own preferences and WeChat authorisations.
GET    /api/me/notification-preferences                               401  ok     ok      ok     ok      ok       ok        ok
PUT    /api/me/notification-preferences                               401  ok     ok      ok     ok      ok       ok        ok
POST   /api/me/wechat-subscriptions                                   401  ok     ok      ok     ok      ok       ok        ok
GET    /api/admin/suppliers                                           401  403    403     403    403     403      403       ok
POST   /api/admin/suppliers                                           401  403    403     403    403     403      403       ok
POST   /api/admin/suppliers/{supplier_id}/users                       401  403    403     403    403     403      403       ok
GET    /api/admin/products                                            401  403    403     403    403     403      403       ok
POST   /api/admin/products                                            401  403    403     403    403     403      403       ok
POST   /api/admin/products/{product_id}/skus                          401  403    403     403    403     403      403       ok
PUT    /api/admin/skus/{sku_id}/stock                                 401  403    403     403    403     403      403       ok
# Categories: the strip is public (an operator also sees the hidden ones); operators manage them.
GET    /api/categories                                                ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/admin/categories                                          401  403    403     403    403     403      403       ok
PATCH  /api/admin/categories/{category_id}                            401  403    403     403    403     403      403       ok
PUT    /api/admin/products/{product_id}/category                      401  403    403     403    403     403      403       ok
# Search: public (team buys only without a log-in; a member's waves are those of their communities).
GET    /api/search                                                    ok   ok     ok      ok     ok      ok       ok        ok
# Nearby: public (what an invite page shows, and how many waves are open; titles to members).
GET    /api/nearby                                                    ok   ok     ok      ok     ok      ok       ok        ok
# 猜你喜欢: a member's own row (staff cannot buy: 403).
GET    /api/recommendations                                           401  ok     ok      ok     ok      403      403       403
PUT    /api/admin/skus/{sku_id}/terms                                 401  403    403     403    403     403      403       ok
# SKUs and their terms are public to leaders: another supplier is refused, not kept in the dark.
PUT    /api/supplier/skus/{sku_id}/terms                              401  403    403     403    403     ok       403       403
GET    /api/supplier/products                                         401  403    403     403    403     ok       ok        403
GET    /api/leader/skus                                               401  403    403     ok     ok      403      403       403
GET    /api/admin/campaigns                                           401  403    403     403    403     403      403       ok
GET    /api/admin/campaigns/{campaign_id}                             401  403    403     403    403     403      403       ok
POST   /api/admin/campaigns                                           401  403    403     403    403     403      403       ok
PATCH  /api/admin/campaigns/{campaign_id}                             401  403    403     403    403     403      403       ok
POST   /api/campaigns/{campaign_id}/teams                             401  ok     ok      ok     ok      403      403       403
# Flash sales: anyone logged in sees the slots, members buy, operators set them.
GET    /api/flash                                                     401  ok     ok      ok     ok      ok       ok        ok
GET    /api/flash/{slot_id}                                           401  ok     ok      ok     ok      ok       ok        ok
POST   /api/flash/{slot_id}/buy                                       401  ok     ok      ok     ok      403      403       403
GET    /api/admin/flash                                               401  403    403     403    403     403      403       ok
POST   /api/admin/flash                                               401  403    403     403    403     403      403       ok
POST   /api/campaigns/{campaign_id}/solo                              401  ok     ok      ok     ok      403      403       403
POST   /api/teams/{team_id}/join                                      401  ok     ok      ok     ok      403      403       403
GET    /api/orders                                                    401  ok     ok      ok     ok      403      403       403
GET    /api/orders/{order_id}                                         401  ok     404     404    404     ok       404       ok
POST   /api/orders/{order_id}/payments                                401  ok     404     404    404     403      403       403
POST   /api/orders/{order_id}/cancel                                  401  ok     404     404    404     403      403       403
POST   /api/orders/{order_id}/confirm-receipt                         401  ok     404     404    404     403      403       403
GET    /api/supplier/orders                                           401  403    403     403    403     ok       ok        403
POST   /api/supplier/orders/{order_id}/ship                           401  403    403     403    403     ok       404       403
GET    /api/admin/orders                                              401  403    403     403    403     403      403       ok
GET    /api/admin/order-desk                                          401  403    403     403    403     403      403       ok
# The dashboards: the operator's; a leader's own (a member who leads nothing is refused); what each figure counts.
GET    /api/admin/dashboard                                           401  403    403     403    403     403      403       ok
GET    /api/leader/dashboard                                          401  403    403     ok     ok      403      403       403
GET    /api/dashboard/definitions                                     401  ok     ok      ok     ok      ok       ok        ok
POST   /api/admin/orders/{order_id}/refund                            401  403    403     403    403     403      403       ok
POST   /api/leader/applications                                       401  ok     ok      ok     ok      403      403       403
GET    /api/leader/applications                                       401  ok     ok      ok     ok      403      403       403
GET    /api/admin/leader-applications                                 401  403    403     403    403     403      403       ok
POST   /api/admin/leader-applications/{application_id}/approve        401  403    403     403    403     403      403       ok
POST   /api/admin/leader-applications/{application_id}/reject         401  403    403     403    403     403      403       ok
GET    /api/admin/leaders                                             401  403    403     403    403     403      403       ok
POST   /api/admin/leaders/{leader_id}/pause                           401  403    403     403    403     403      403       ok
POST   /api/admin/leaders/{leader_id}/resume                          401  403    403     403    403     403      403       ok
GET    /api/admin/leaders/{leader_id}/credit                          401  403    403     403    403     403      403       ok
# The risk review queue: operators only (the case names a bystander, not a column's caller).
GET    /api/admin/risk/cases                                          401  403    403     403    403     403      403       ok
GET    /api/admin/risk/cases/{risk_case_id}                           401  403    403     403    403     403      403       ok
POST   /api/admin/risk/cases/{risk_case_id}/decision                  401  403    403     403    403     403      403       ok
POST   /api/admin/risk/analyse                                        401  403    403     403    403     403      403       ok
# Outgoing webhooks: operators only (the world's endpoint is paused: nothing is sent).
GET    /api/admin/webhooks/topics                                     401  403    403     403    403     403      403       ok
GET    /api/admin/webhooks                                            401  403    403     403    403     403      403       ok
POST   /api/admin/webhooks                                            401  403    403     403    403     403      403       ok
POST   /api/admin/webhooks/deliver                                    401  403    403     403    403     403      403       ok
GET    /api/admin/webhooks/{endpoint_id}                              401  403    403     403    403     403      403       ok
PATCH  /api/admin/webhooks/{endpoint_id}                              401  403    403     403    403     403      403       ok
POST   /api/admin/webhooks/{endpoint_id}/rotate                       401  403    403     403    403     403      403       ok
POST   /api/admin/webhooks/{endpoint_id}/test                         401  403    403     403    403     403      403       ok
GET    /api/admin/webhooks/{endpoint_id}/deliveries                   401  403    403     403    403     403      403       ok
GET    /api/admin/webhooks/deliveries/{delivery_id}                   401  403    403     403    403     403      403       ok
POST   /api/admin/webhooks/deliveries/{delivery_id}/replay            401  403    403     403    403     403      403       ok
# The what-if simulator: operators only.
POST   /api/admin/simulations                                         401  403    403     403    403     403      403       ok
GET    /api/admin/simulations                                         401  403    403     403    403     403      403       ok
GET    /api/admin/simulations/{simulation_id}                         401  403    403     403    403     403      403       ok
# Referral: a buyer's own invite link, invitees, commission and withdrawals; the operator's terms.
GET    /api/me/referral                                               401  ok     ok      ok     ok      403      403       403
GET    /api/me/referral/invitees                                      401  ok     ok      ok     ok      403      403       403
GET    /api/me/referral/commissions                                   401  ok     ok      ok     ok      403      403       403
GET    /api/me/referral/withdrawals                                   401  ok     ok      ok     ok      403      403       403
POST   /api/me/referral/withdrawals                                   401  ok     ok      ok     ok      403      403       403
# Privacy: a member's own data export and account deletion (the world's body confirms
# nothing, so the deletion answers 422 and deletes nobody).
GET    /api/me/export                                                 401  ok     ok      ok     ok      403      403       403
GET    /api/me/deletion                                               401  ok     ok      ok     ok      403      403       403
POST   /api/me/deletion                                               401  ok     ok      ok     ok      403      403       403
GET    /api/admin/referral/settings                                   401  403    403     403    403     403      403       ok
PUT    /api/admin/referral/settings                                   401  403    403     403    403     403      403       ok
GET    /api/admin/referral/partners                                   401  403    403     403    403     403      403       ok
POST   /api/admin/referral/partners/{user_id}                         401  403    403     403    403     403      403       ok
DELETE /api/admin/referral/partners/{user_id}                         401  403    403     403    403     403      403       ok
GET    /api/leader/me                                                 401  403    403     ok     ok      403      403       403
GET    /api/leader/credit                                             401  403    403     ok     ok      403      403       403
POST   /api/leader/pickup-points                                      401  403    403     ok     ok      403      403       403
GET    /api/leader/pickup-points                                      401  403    403     ok     ok      403      403       403
PATCH  /api/leader/pickup-points/{pickup_point_id}                    401  403    403     ok     404     403      403       403
POST   /api/leader/communities                                        401  403    403     ok     ok      403      403       403
PATCH  /api/leader/communities/{community_id}                         401  403    404     ok     404     403      403       403
# The PATCH wrote version 1 of the rules: members accept it before they post.
POST   /api/communities/{community_id}/rules/accept                   401  ok     404     ok     404     403      403       403
GET    /api/leader/communities/{community_id}/members                 401  403    404     ok     404     403      403       403
POST   /api/leader/communities/{community_id}/admins                  401  403    404     ok     404     403      403       403
DELETE /api/leader/communities/{community_id}/admins/{user_id}        401  403    404     ok     404     403      403       403
GET    /api/communities                                               401  ok     ok      ok     ok      403      403       403
GET    /api/communities/{community_id}/waves                          401  ok     404     ok     404     404      404       ok
# Posts: a community's members read and write; its leader and admins (and operators) pin and
# mark the day's deal; a non-member posting is refused with 409 not_a_member (an "ok" here).
GET    /api/communities/{community_id}/posts                          401  ok     404     ok     404     404      404       ok
POST   /api/communities/{community_id}/posts                          401  ok     ok      ok     ok      403      403       403
GET    /api/feed                                                      401  ok     ok      ok     ok      403      403       403
GET    /api/posts/{post_id}                                           401  ok     404     ok     404     404      404       ok
POST   /api/posts/{post_id}/replies                                   401  ok     404     ok     404     403      403       403
GET    /api/posts/{post_id}/replies                                   401  ok     404     ok     404     404      404       ok
PUT    /api/posts/{post_id}/like                                      401  ok     404     ok     404     403      403       403
DELETE /api/posts/{post_id}/like                                      401  ok     404     ok     404     403      403       403
POST   /api/posts/{post_id}/share                                     401  ok     404     ok     404     403      403       403
PUT    /api/posts/{post_id}/pin                                       401  403    404     ok     404     404      404       ok
DELETE /api/posts/{post_id}/pin                                       401  403    404     ok     404     404      404       ok
PUT    /api/posts/{post_id}/deal-of-day                               401  403    404     ok     404     404      404       ok
GET    /api/leader/communities/{community_id}/rhythm                  401  403    404     ok     404     403      403       403
PUT    /api/leader/communities/{community_id}/rhythm                  401  403    404     ok     404     403      403       403
POST   /api/listings/{listing_id}/orders                              401  ok     404     ok     404     403      403       403
GET    /api/wave-orders/{order_id}                                    401  ok     404     ok     404     404      404       ok
GET    /api/wave-orders/{order_id}/pickup                             401  ok     404     404    404     404      404       404
# Cancelling before the cut-off: the owner only (this one is picked up: a 409, too late).
POST   /api/wave-orders/{order_id}/cancel                             401  ok     404     404    404     403      403       403
POST   /api/leader/waves                                              401  403    403     ok     404     403      403       403
GET    /api/leader/waves                                              401  403    403     ok     ok      403      403       403
GET    /api/leader/waves/{listing_id}/share                           401  403    403     ok     404     403      403       403
POST   /api/leader/waves/{listing_id}/share/new-link                  401  403    403     ok     404     403      403       403
GET    /api/catalogue                                                 401  403    403     ok     ok      403      403       403
POST   /api/leader/waves/{wave_id}/adopt                              401  403    403     ok     404     403      403       403
GET    /api/leader/commission                                         401  403    403     ok     ok      403      403       403
POST   /api/leader/withdrawals                                        401  403    403     ok     ok      403      403       403
GET    /api/leader/listings/{listing_id}/orders                       401  403    403     ok     404     403      403       403
GET    /api/leader/listings/{listing_id}/orders.csv                   401  403    403     ok     404     403      403       403
GET    /api/leader/listings/{listing_id}/orders.xlsx                  401  403    403     ok     404     403      403       403
POST   /api/supplier/waves                                            401  403    403     403    403     ok       ok        403
GET    /api/supplier/waves                                            401  403    403     403    403     ok       ok        403
GET    /api/supplier/waves/{wave_id}/purchase-order                   401  403    403     403    403     ok       404       ok
GET    /api/supplier/waves/{wave_id}/purchase-order.csv               401  403    403     403    403     ok       404       ok
GET    /api/admin/waves                                               401  403    403     403    403     403      403       ok
GET    /api/admin/withdrawals                                         401  403    403     403    403     403      403       ok
POST   /api/admin/withdrawals/{withdrawal_id}/approve                 401  403    403     403    403     403      403       ok
POST   /api/admin/withdrawals/{withdrawal_id}/reject                  401  403    403     403    403     403      403       ok
POST   /api/supplier/waves/{wave_id}/shipments                        401  403    403     403    403     ok       404       403
GET    /api/supplier/waves/{wave_id}/shipments                        401  403    403     403    403     ok       404       ok
GET    /api/supplier/waves/{wave_id}/manifests/{pickup_point_id}      401  403    403     403    403     ok       404       ok
POST   /api/leader/waves/{wave_id}/pickup-points/{pickup_point_id}/receive 401 403 403   ok     404     403      403       403
POST   /api/leader/pickups/verify                                     401  403    403     ok     404     403      403       403
GET    /api/leader/pickup-points/{pickup_point_id}/pickups            401  403    403     ok     404     403      403       403
POST   /api/leader/pickup-points/{pickup_point_id}/scan               401  403    403     ok     404     403      403       403
GET    /api/leader/pickup-points/{pickup_point_id}/lookup             401  403    403     ok     404     403      403       403
POST   /api/leader/pickups/hand-over                                  401  403    403     ok     404     403      403       403
POST   /api/admin/waves/{wave_id}/pickup-points/{pickup_point_id}/refund-undelivered 401 403 403 403 403 403 403   ok
GET    /api/supplier/waves/{wave_id}/tracking                         401  403    403     403    403     ok       404       ok
PUT    /api/supplier/waves/{wave_id}/pickup-points/{pickup_point_id}/tracking 401 403 403 403 403 ok 404    403
POST   /api/supplier/waves/{wave_id}/pickup-points/{pickup_point_id}/tracking/steps 401 403 403 403 403 ok 404 403
POST   /api/admin/waves/{wave_id}/pickup-points/{pickup_point_id}/tracking/steps 401 403 403 403 403 403 403 ok
GET    /api/wave-orders/{order_id}/tracking                           401  ok     404     404    404     404      404       404
GET    /api/admin/quality/suppliers                                   401  403    403     403    403     403      403       ok
GET    /api/admin/quality/suppliers/{supplier_id}                     401  403    403     403    403     403      403       ok
GET    /api/admin/quality/thresholds                                  401  403    403     403    403     403      403       ok
PUT    /api/admin/quality/thresholds                                  401  403    403     403    403     403      403       ok
GET    /api/supplier/quality                                          401  403    403     403    403     ok       ok        403
GET    /api/leader/suppliers/{supplier_id}/quality                    401  403    403     ok     ok      403      403       403
POST   /api/uploads                                                   401  ok     ok      ok     ok      403      403       403
POST   /api/aftersales                                                401  ok     404     404    404     403      403       403
GET    /api/aftersales                                                401  ok     ok      ok     ok      ok       ok        ok
GET    /api/aftersales/{case_id}                                      401  ok     404     ok     404     404      404       ok
GET    /api/aftersales/{case_id}/photos/{n}                           401  ok     404     ok     404     404      404       ok
# A photo not yet attached to anything is its uploader's alone (not even the operator's).
POST   /api/photos                                                    401  ok     ok      ok     ok      403      403       403
GET    /api/photos/{photo_id}                                         404  ok     404     404    404     404      404       404
GET    /api/leader/aftersales                                         401  403    403     ok     ok      403      403       403
GET    /api/admin/aftersales                                          401  403    403     403    403     403      403       ok
POST   /api/aftersales/{case_id}/reject                               401  403    404     ok     404     404      404       ok
POST   /api/aftersales/{case_id}/accept                               401  403    404     ok     404     404      404       ok
POST   /api/wave-orders/{order_id}/rating                             401  ok     404     404    404     403      403       403
GET    /api/wave-orders/{order_id}/rating                             401  ok     404     ok     404     404      404       ok
# Reviews (晒单): only the buyer of a completed order writes one (another's order: 403
# not_a_verified_buyer; staff: staff_account); the lists are public but a wave's, which is
# for whoever may see the wave; the one reply is the wave's leader's or the goods' supplier's.
POST   /api/orders/{order_id}/reviews                                 401  ok     403     403    403     403      403       403
GET    /api/me/reviewable                                             401  ok     ok      ok     ok      ok       ok        ok
GET    /api/products/{product_id}/reviews                             ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/skus/{sku_id}/reviews                                     ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/campaigns/{campaign_id}/reviews                           ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/waves/{wave_id}/reviews                                   404  ok     404     ok     ok      ok       404       ok
GET    /api/reviews/{review_id}                                       ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/reviews/{review_id}/reply                                 401  403    403     ok     403     ok       403       403
POST   /api/leader/sub-leaders                                        401  403    403     ok     ok      403      403       403
# Leader 2 invited leader 1, who accepted: the invitation is leader 1's to answer (again: a 409).
GET    /api/leader/sub-leader-invitations                             401  403    403     ok     ok      403      403       403
POST   /api/leader/sub-leader-invitations/{invitation_id}/accept      401  403    403     ok     404     403      403       403
POST   /api/leader/sub-leader-invitations/{invitation_id}/decline     401  403    403     ok     404     403      403       403
POST   /api/leader/sub-leader-invitations/{invitation_id}/cancel      401  403    403     404    ok      403      403       403
GET    /api/admin/sub-leader-links                                    401  403    403     403    403     403      403       ok
GET    /api/admin/sub-leader-invitations                              401  403    403     403    403     403      403       ok
POST   /api/admin/sub-leader-links/{link_id}/end                      401  403    403     403    403     403      403       ok
# Community events: seen by the community's members and operators; members sign up (staff do
# not); its leader and admins manage it and check members in (another member is 403, a stranger 404).
GET    /api/communities/{community_id}/events                         401  ok     404     ok     404     404      404       ok
GET    /api/events/{event_id}                                         401  ok     404     ok     404     404      404       ok
POST   /api/events/{event_id}/signup                                  401  ok     404     ok     404     403      403       403
DELETE /api/events/{event_id}/signup                                  401  ok     404     ok     404     403      403       403
POST   /api/leader/communities/{community_id}/events                  401  403    404     ok     404     403      403       403
PATCH  /api/leader/events/{event_id}                                  401  403    404     ok     404     403      403       403
POST   /api/leader/events/{event_id}/publish                          401  403    404     ok     404     403      403       403
GET    /api/leader/events/{event_id}/attendees                        401  403    404     ok     404     403      403       403
POST   /api/leader/events/{event_id}/checkin                          401  403    404     ok     404     403      403       403
POST   /api/leader/events/{event_id}/cancel                           401  403    404     ok     404     403      403       403
POST   /api/leader/upline/leave                                       401  403    403     ok     ok      403      403       403
# Co-creation: a community's proposals are its members', its leader's and operators'; voting
# and proposing are for members (leader 1's account is new and has no completed order: its
# vote is refused, not_eligible_to_vote); the threshold and conversion are its leader's.
GET    /api/communities/{community_id}/proposals                      401  ok     404     ok     404     404      404       ok
POST   /api/communities/{community_id}/proposals                      401  ok     404     ok     404     403      403       403
GET    /api/proposals/{proposal_id}                                   401  ok     404     ok     404     404      404       ok
PUT    /api/proposals/{proposal_id}/vote                              401  ok     404     403    404     403      403       403
DELETE /api/proposals/{proposal_id}/vote                              401  ok     404     ok     404     403      403       403
GET    /api/leader/communities/{community_id}/cocreate-settings       401  403    404     ok     404     404      404       404
PUT    /api/leader/communities/{community_id}/cocreate-settings       401  403    404     ok     404     404      404       404
GET    /api/leader/communities/{community_id}/insight                 401  403    404     ok     404     404      404       ok
GET    /api/leader/proposals                                          401  403    403     ok     ok      403      403       403
POST   /api/leader/proposals/{proposal_id}/convert                    401  403    404     ok     404     404      404       404
DELETE /api/proposals/{proposal_id}                                   401  ok     404     403    404     403      403       403
# Suppliers the operator links to a community (supplier 1 to leader 1's) see its ready
# proposals and convert them (member 1's is not ready yet: proposal_not_ready); another is 403.
GET    /api/admin/communities/{community_id}/suppliers                401  403    403     403    403     403      403       ok
POST   /api/admin/communities/{community_id}/suppliers                401  403    403     403    403     403      403       ok
GET    /api/supplier/proposals                                        401  403    403     403    403     ok       ok        403
POST   /api/supplier/proposals/{proposal_id}/convert                  401  403    403     403    403     ok       403       403
DELETE /api/admin/communities/{community_id}/suppliers/{supplier_id}  401  403    403     403    403     403      403       ok
POST   /api/teams/{team_id}/leave                                     401  ok     ok      ok     ok      403      403       403
POST   /api/communities/{community_id}/leave                          401  ok     ok      ok     ok      403      403       403
POST   /api/communities/invite/{code}/join                            401  ok     ok      ok     ok      403      403       403
# By now member 2 and leader 2 have joined the community: a member who does not manage it.
POST   /api/leader/communities/{community_id}/invite-code             401  403    403     ok     403     403      403       403
# Group rules (群规): a community's members read and accept them, its leader writes them.
GET    /api/communities/{community_id}/rules                          401  ok     ok      ok     ok      403      403       403
GET    /api/communities/{community_id}/me                             401  ok     ok      ok     ok      403      403       403
PUT    /api/leader/communities/{community_id}/rules                   401  403    403     ok     403     403      403       403
GET    /api/leader/communities/{community_id}/rules                   401  403    403     ok     403     403      403       403
# Moderation: members report; the community's leader and operators decide (member 1's post
# here) and mute.
POST   /api/reports                                                   401  ok     ok      ok     ok      403      403       403
POST   /api/moderation/{kind}/{target_id}/hide                        401  403    403     ok     403     403      403       ok
POST   /api/moderation/{kind}/{target_id}/restore                     401  403    403     ok     403     403      403       ok
POST   /api/moderation/{kind}/{target_id}/approve                     401  403    403     ok     403     403      403       ok
GET    /api/leader/moderation/queue                                   401  403    403     ok     ok      403      403       403
GET    /api/leader/moderation/log                                     401  403    403     ok     ok      403      403       403
POST   /api/leader/communities/{community_id}/mutes                   401  403    403     ok     403     403      403       ok
DELETE /api/leader/communities/{community_id}/mutes/{user_id}         401  403    403     ok     403     403      403       ok
GET    /api/ops/moderation/log                                        401  403    403     403    403     403      403       ok
GET    /api/ops/moderation/queue                                      401  403    403     403    403     403      403       ok
# The address book is the caller's own: another member's entry is 404, staff accounts do not buy.
# Bargains: the campaigns are public; a bargain is seen by its starter, its helpers, operators
# and whoever holds its share link (the world's calls carry none); members start, cut and buy.
GET    /api/bargain-campaigns                                         ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/bargain-campaigns/{campaign_id}                           ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/bargain-campaigns/{campaign_id}/bargains                  401  ok     ok      ok     ok      403      403       403
GET    /api/bargains/mine                                             401  ok     ok      ok     ok      403      403       403
GET    /api/bargains/{bargain_id}                                     401  ok     404     404    404     404      404       ok
POST   /api/bargains/{bargain_id}/help                                401  ok     404     404    404     403      403       403
POST   /api/bargains/{bargain_id}/order                               401  ok     404     404    404     403      403       403
GET    /api/admin/bargain-campaigns                                   401  403    403     403    403     403      403       ok
POST   /api/admin/bargain-campaigns                                   401  403    403     403    403     403      403       ok
PATCH  /api/admin/bargain-campaigns/{campaign_id}                     401  403    403     403    403     403      403       ok
GET    /api/admin/bargain-campaigns/{campaign_id}/bargains            401  403    403     403    403     403      403       ok
POST   /api/admin/bargains/reverse-helps                              401  403    403     403    403     403      403       ok
# Points: a member's own (staff accounts hold none); the levels are public; the settings, levels and adjustments are the operator's.
GET    /api/me/points                                                 401  ok     ok      ok     ok      403      403       403
GET    /api/me/points/entries                                         401  ok     ok      ok     ok      403      403       403
POST   /api/me/checkin                                                401  ok     ok      ok     ok      403      403       403
GET    /api/levels                                                    ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/admin/points/settings                                     401  403    403     403    403     403      403       ok
PUT    /api/admin/points/settings                                     401  403    403     403    403     403      403       ok
GET    /api/admin/levels                                              401  403    403     403    403     403      403       ok
PUT    /api/admin/levels                                              401  403    403     403    403     403      403       ok
POST   /api/admin/points/adjust                                       401  403    403     403    403     403      403       ok
GET    /api/admin/points/members/{member_id}                          401  403    403     403    403     403      403       ok
# Tasks and achievements: a member's own; the weekly tasks are the operator's.
GET    /api/me/tasks                                                  401  ok     ok      ok     ok      403      403       403
GET    /api/me/achievements                                           401  ok     ok      ok     ok      403      403       403
GET    /api/me/badges                                                 401  ok     ok      ok     ok      403      403       403
GET    /api/admin/tasks                                               401  403    403     403    403     403      403       ok
# The verifiable record: key, checkpoints and consistency are public; an inclusion proof needs a log-in (its data only to whom it concerns); the bundle is a member's own.
GET    /api/journal/key                                               ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/journal/checkpoints                                       ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/journal/checkpoints/latest                                ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/journal/checkpoints/{size}                                ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/journal/proofs/inclusion                                  401  ok     ok      ok     ok      ok       ok        ok
GET    /api/journal/proofs/consistency                                ok   ok     ok      ok     ok      ok       ok        ok
GET    /api/me/journal                                                401  ok     ok      ok     ok      403      403       403
POST   /api/admin/tasks                                               401  403    403     403    403     403      403       ok
PUT    /api/admin/tasks/{task_id}                                     401  403    403     403    403     403      403       ok
# Leaderboards: a community's board for its members (member 2 and leader 2 have joined by
# now), leader and operators; the award is its leader's; likes are members' (not one's own).
GET    /api/communities/{community_id}/leaderboard                    401  ok     ok      ok     ok      404      404       ok
POST   /api/leader/communities/{community_id}/leaderboard/award       401  403    403     ok     403     403      403       403
GET    /api/admin/leaderboard/settings                                401  403    403     403    403     403      403       ok
PUT    /api/admin/leaderboard/settings                                401  403    403     403    403     403      403       ok
POST   /api/reviews/{review_id}/like                                  401  403    ok      ok     ok      403      403       403
GET    /api/me/addresses                                              401  ok     ok      ok     ok      403      403       403
POST   /api/me/addresses                                              401  ok     ok      ok     ok      403      403       403
PUT    /api/me/addresses/{address_id}                                 401  ok     404     404    404     403      403       403
POST   /api/me/addresses/{address_id}/default                         401  ok     404     404    404     403      403       403
DELETE /api/me/addresses/{address_id}                                 401  ok     404     404    404     403      403       403
# Coupons: the centre is public; buying, one's own coupons and the checkout quote are a member's (staff hold none); the catalogue is the operator's.
GET    /api/coupons                                                   ok   ok     ok      ok     ok      ok       ok        ok
POST   /api/coupons/{coupon_id}/buy                                   401  ok     ok      ok     ok      403      403       403
GET    /api/me/coupons                                                401  ok     ok      ok     ok      403      403       403
GET    /api/me/coupons/quote                                          401  ok     ok      ok     ok      403      403       403
GET    /api/admin/coupons                                             401  403    403     403    403     403      403       ok
POST   /api/admin/coupons                                             401  403    403     403    403     403      403       ok
PUT    /api/admin/coupons/{coupon_id}                                 401  403    403     403    403     403      403       ok
PUT    /api/admin/coupons/{coupon_id}/status                          401  403    403     403    403     403      403       ok
# The author deletes their post (member 2 and leader 2 have joined by now: members, not authors).
DELETE /api/posts/{post_id}                                           401  ok     403     403    403     403      403       403
POST   /api/auth/logout-everywhere                                    401  ok     ok      ok     ok      ok       ok        ok
"""


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expected: dict[str, str]  # column -> "ok" or a status


def rows_of(table: str) -> list[Row]:
    lines = [line.split() for line in table.strip().splitlines() if not line.startswith("#")]
    header, *body = lines
    assert tuple(header[2:]) == COLUMNS, header
    found = []
    for cells in body:
        method, path, *outcomes = cells
        assert len(outcomes) == len(COLUMNS), (method, path, outcomes)
        assert set(outcomes) <= {"ok", "401", "403", "404"}, (method, path, outcomes)
        found.append(Row(method, path, dict(zip(COLUMNS, outcomes, strict=True))))
    return found


ROWS = rows_of(MATRIX)


@dataclass
class World:
    """The callers (headers by column) and the ids and bodies of the first actor's objects."""

    headers: dict[str, dict[str, str]]
    ids: dict[str, Any]
    # Ids by route, for the routes whose object is not the default one of that name.
    by_path: dict[str, dict[str, Any]] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)  # "METHOD path" -> JSON (or bytes)


def _ok(r: Any) -> Any:
    assert r.status_code < 300, r.text
    return r.json() if r.content else None


def _auth(who: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": who["Authorization"]}


def _risk_case(api: Api) -> int:
    """A review case naming a bystander (a member none of the columns is)."""
    from tuangou.core.db import run_in_transaction
    from tuangou.risk import graph
    from tuangou.risk import service as risk
    from tuangou.risk.rules import Reason

    bystander = int(api.signup("路人")["user_id"])
    finding = graph.Finding("dense_ring", (bystander,), (Reason("dense_ring", 1, extra="0"),))
    case = run_in_transaction(lambda s: risk.open_case(s, finding, source="graph"))
    assert case is not None
    return case.id


def _webhook() -> dict[str, int]:
    """A paused endpoint with a test delivery waiting."""
    from tuangou.core.db import run_in_transaction
    from tuangou.webhooks import service as webhooks

    def work(s: Any) -> dict[str, int]:
        view, _ = webhooks.create_endpoint(
            s, url="https://hooks.example.org/in", topics=["team.formed"], active=False
        )
        return {"endpoint_id": view.id, "delivery_id": webhooks.send_test(s, view.id).id}

    return run_in_transaction(work)


def _simulation(sku_id: int) -> int:
    """A stored simulation run, already over (so that no worker round starts it)."""
    from tuangou.core.db import run_in_transaction
    from tuangou.simulate import service as simulations
    from tuangou.simulate.rules import Spec

    spec = Spec(sku_id=sku_id, price=100, members=4, runs=1)
    run_id = run_in_transaction(lambda s: simulations.create_run(s, spec, operator_id=None).id)
    execute("UPDATE simulations SET status = 'failed', error = 'test' WHERE id = :id", id=run_id)
    return run_id


def build_world(api: Api) -> World:
    """An operator; supplier 1 (a SKU, a catalogue wave, a team-buy campaign) and supplier 2;
    leader 1 (a pickup point, a community, a listing of the wave) and leader 2 (their own);
    member 1 in leader 1's community, with a team order and a wave order picked up, an
    after-sale case with a photo and notifications; member 2 with nothing of theirs."""
    w = Waves(api)
    c = api.c
    op, supplier = w.op, w.supplier
    _, supplier2 = api.supplier(op, "茶园")
    apples = w.sku("烟台苹果")
    product = scalar("SELECT product_id FROM skus WHERE id = :id", id=apples)
    wave = w.catalogue_wave([{"sku_id": apples, "price": 1000, "moq": 1, "stock": 100}])
    item = wave["items"][0]["item_id"]
    leader = w.leader("王团长", "幸福里 3 栋便利店")
    leader2 = w.leader("赵团长", "阳光花园快递站")
    listing = w.adopt(leader, wave["id"])["listing"]["id"]
    w.adopt(leader2, wave["id"])
    member = w.member(leader, "李阿姨")
    member2 = w.signup("张大爷")
    wave_order = w.order(member, listing, {item: 2})
    # The wave settles, is shipped, received and picked up: the member's order completes.
    clock.advance(timedelta(hours=4))
    run_worker()
    _ok(w.ship(wave["id"]))
    _ok(w.receive(leader, wave["id"]))
    code = w.code(member, wave_order)
    _ok(w.verify(leader, code))
    run_worker()
    photo_headers = {**_auth(member), "Content-Type": "image/png"}
    photo = _ok(c.post("/api/uploads", content=png(), headers=photo_headers))["id"]
    case_body = {
        "order_id": wave_order,
        "kind": "damaged",
        "description": "到货时苹果压坏了",
        "lines": [{"item_id": item, "quantity": 1}],
        "photo_ids": [photo],
    }
    case = _ok(c.post("/api/aftersales", json=case_body, headers=_auth(member)))["id"]
    # Member 1 reviews the wave order's line.
    line = scalar("SELECT id FROM wave_order_lines WHERE order_id = :o", o=wave_order)
    review_body = {"line_id": line, "rating": 5, "text": "很新鲜"}
    review = _ok(
        c.post(f"/api/orders/{wave_order}/reviews", json=review_body, headers=_auth(member))
    )["id"]
    loose_photo = _ok(c.post("/api/photos", content=png(), headers=photo_headers))["id"]
    # A team buy of supplier 1's: member 1 opens a team and pays.
    campaign = api.campaign(op, w.supplier_id)
    opened = api.open(_auth(member), campaign["id"])
    notification = _ok(c.get("/api/notifications", headers=_auth(member)))["items"][0]["id"]
    applicant = api.signup("周先生")
    point = {
        "name": "周先生的自提点",
        "address": "梧桐路 1 号",
        "latitude": 31.2,
        "longitude": 121.4,
    }
    application = _ok(c.post("/api/leader/applications", json=point, headers=_auth(applicant)))
    # A withdrawal of leader 1's, already decided (the operator's calls refuse to decide again).
    execute(
        "INSERT INTO withdrawals (leader_id, amount, status, account_note, created_at)"
        " VALUES (:leader, 100, 'rejected', '', :now)",
        leader=leader["leader_id"],
        now=clock.now(),
    )
    withdrawal = scalar("SELECT MAX(id) FROM withdrawals")
    # Leader 1 is leader 2's sub-leader, by an invitation they accepted.
    invited = {"leader_id": leader["leader_id"]}
    invitation = _ok(c.post("/api/leader/sub-leaders", json=invited, headers=_auth(leader2)))["id"]
    link = _ok(
        c.post(f"/api/leader/sub-leader-invitations/{invitation}/accept", headers=_auth(leader))
    )["link"]["id"]
    flash_slots = {
        "sku_id": apples,
        "title": "整点秒杀",
        "price": 500,
        "stock": 2,
        "day": (clock.local_date(clock.now()) + timedelta(days=1)).isoformat(),
        "times": ["10:00"],
    }
    headers = {
        "anon": {},
        "member": _auth(member),
        "member2": _auth(member2),
        "leader": _auth(leader),
        "leader2": _auth(leader2),
        "supplier": supplier,
        "supplier2": supplier2,
        "operator": op,
    }
    ids = {
        "campaign_id": campaign["id"],
        "team_id": opened["team"]["id"],
        "ref": str(opened["pay_url"]).split("ref=", 1)[1].split("&", 1)[0],
        "supplier_id": w.supplier_id,
        "product_id": product,
        "sku_id": apples,
        "order_id": opened["order"]["id"],
        "notification_id": notification,
        "pickup_point_id": leader["pickup_point_id"],
        "community_id": leader["community_id"],
        "user_id": member["user_id"],
        "code": leader["invite_code"],
        "application_id": application["id"],
        "leader_id": leader["leader_id"],
        "listing_id": listing,
        "wave_id": wave["id"],
        "withdrawal_id": withdrawal,
        "case_id": case,
        "review_id": review,
        "photo_id": loose_photo,
        "risk_case_id": _risk_case(api),
        **_webhook(),
        "simulation_id": _simulation(apples),
        "invitation_id": invitation,
        "link_id": link,
        "category_id": _ok(c.post("/api/admin/categories", json={"name": "水果"}, headers=op))[
            "id"
        ],
        "address_id": scalar(
            "SELECT id FROM member_addresses WHERE user_id = :u", u=int(member["user_id"])
        ),
        "slot_id": _ok(c.post("/api/admin/flash", json=flash_slots, headers=op))[0]["id"],
        "n": 1,
        "kind": "post",
        "target_id": 1,
    }
    # A bargain campaign of supplier 1's SKU, and a bargain member 1 started on it.
    bargain_campaign = _ok(
        c.post(
            "/api/admin/bargain-campaigns",
            json={
                "sku_id": apples,
                "ends_at": (clock.now() + timedelta(days=2)).isoformat(),
                "start_price": 3000,
                "floor_price": 1000,
                "helpers_needed": 3,
                "stock": 5,
            },
            headers=op,
        )
    )["id"]
    bargain = _ok(
        c.post(f"/api/bargain-campaigns/{bargain_campaign}/bargains", headers=_auth(member))
    )["id"]
    ids["bargain_id"] = bargain
    # An event of leader 1's community; a member who signed up and was checked in already.
    start = clock.now() + timedelta(days=3)
    event_body = {
        "title": "草莓品鉴会",
        "place": "会所",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "seats": 5,
    }
    event = _ok(
        c.post(
            f"/api/leader/communities/{leader['community_id']}/events",
            json=event_body,
            headers=_auth(leader),
        )
    )["id"]
    _ok(c.post(f"/api/leader/events/{event}/publish", headers=_auth(leader)))
    guest = w.member(leader, "孙阿姨")
    checked = _ok(c.post(f"/api/events/{event}/signup", headers=_auth(guest)))["signup"]["code"]
    _ok(
        c.post(f"/api/leader/events/{event}/checkin", json={"code": checked}, headers=_auth(leader))
    )
    ids["event_id"] = event
    # A post of member 1's in leader 1's community.
    community_posts = f"/api/communities/{leader['community_id']}/posts"
    ids["post_id"] = _ok(c.post(community_posts, json={"text": "苹果很甜"}, headers=_auth(member)))[
        "id"
    ]
    ids["target_id"] = ids["post_id"]
    # A proposal member 1 made to leader 1's community (their completed order lets them vote).
    ids["proposal_id"] = _ok(
        c.post(
            f"/api/communities/{leader['community_id']}/proposals",
            json={"title": "云南蓝莓", "target_price": 3990},
            headers=_auth(member),
        )
    )["id"]
    # Supplier 1 is linked to leader 1's community: it may convert its ready proposals.
    _ok(
        c.post(
            f"/api/admin/communities/{leader['community_id']}/suppliers",
            json={"supplier_id": w.supplier_id},
            headers=_auth(op),
        )
    )
    coupon_body = {
        "name": "满20减3",
        "form": "fixed",
        "amount": 300,
        "min_spend": 2000,
        "points_price": 100,
        "kinds": ["wave", "team"],
        "valid_days": 7,
        "stock": 10,
    }
    ids["coupon_id"] = _ok(c.post("/api/admin/coupons", json=coupon_body, headers=op))["id"]
    from tuangou.journal import service as journal  # the record's first signed checkpoint

    journal.publish_checkpoints(force=True)
    ids["size"] = _ok(c.get("/api/journal/checkpoints/latest"))["size"]
    own_point = {
        "community_id": leader["community_id"],
        "pickup_point_id": leader["pickup_point_id"],
    }
    publish = {
        **own_point,
        "title": "明日达",
        "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
        "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
        "items": [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 10}],
    }
    # Open for orders and for adoption: leader 1's own wave, and a new catalogue wave.
    open_wave = _ok(c.post("/api/leader/waves", json=publish, headers=_auth(leader)))
    open_item = open_wave["items"][0]["item_id"]
    new_wave = w.catalogue_wave([{"sku_id": apples, "price": 1000, "moq": 1, "stock": 100}])
    by_path: dict[str, dict[str, Any]] = {
        **{
            path: {"campaign_id": bargain_campaign}
            for path in (
                "/api/bargain-campaigns/{campaign_id}",
                "/api/bargain-campaigns/{campaign_id}/bargains",
                "/api/admin/bargain-campaigns/{campaign_id}",
                "/api/admin/bargain-campaigns/{campaign_id}/bargains",
            )
        },
        "/api/listings/{listing_id}/orders": {"listing_id": open_wave["listing"]["id"]},
        "/api/admin/points/members/{member_id}": {"member_id": member["user_id"]},
        "/api/admin/tasks/{task_id}": {"task_id": 1},  # a default task (GET seeds them)
        "/api/leader/waves/{wave_id}/adopt": {"wave_id": new_wave["id"]},
        **{
            path: {"order_id": wave_order}
            for path in (
                "/api/wave-orders/{order_id}",
                "/api/wave-orders/{order_id}/pickup",
                "/api/wave-orders/{order_id}/tracking",
                "/api/wave-orders/{order_id}/cancel",
                "/api/wave-orders/{order_id}/rating",
                "/api/orders/{order_id}/reviews",
            )
        },
    }
    bodies: dict[str, Any] = {
        "POST /api/campaigns/{campaign_id}/teams": {"quantity": 1},
        "POST /api/flash/{slot_id}/buy": {"quantity": 1},
        "POST /api/leader/communities/{community_id}/events": event_body,
        "PATCH /api/leader/events/{event_id}": {"title": "草莓品鉴会 (改)"},
        "POST /api/leader/events/{event_id}/checkin": {"code": checked},  # used: a 409
        "POST /api/admin/flash": flash_slots,
        "POST /api/campaigns/{campaign_id}/solo": {"quantity": 1},
        "POST /api/teams/{team_id}/join": {"quantity": 1},
        "POST /api/supplier/orders/{order_id}/ship": {"carrier": "顺丰", "tracking_no": "SF1"},
        "PUT /api/supplier/waves/{wave_id}/pickup-points/{pickup_point_id}/tracking": {
            "carrier": "顺丰",
            "tracking_no": "SF1",
        },
        "POST /api/supplier/waves/{wave_id}/pickup-points/{pickup_point_id}/tracking/steps": {
            "status": "in_transit"
        },
        "POST /api/admin/waves/{wave_id}/pickup-points/{pickup_point_id}/tracking/steps": {
            "status": "in_transit"
        },
        "PUT /api/admin/quality/thresholds": {
            "window_days": 90,
            "max_aftersale_bps": 500,
            "min_rating_tenths": 40,
            "min_reviews": 5,
            "min_on_time_bps": 9000,
            "max_failed_moq_bps": 3000,
            "min_sample": 5,
        },
        "POST /api/leader/applications": point,
        "POST /api/leader/pickup-points": point,
        "PATCH /api/leader/pickup-points/{pickup_point_id}": {"opening_hours": "8:00-20:00"},
        "POST /api/leader/communities": {"name": "新小区"},
        "PATCH /api/leader/communities/{community_id}": {"rules": "只发团购"},
        # The PATCH above wrote version 1 of the rules: joining accepts it.
        "POST /api/communities/invite/{code}/join": {"rules_version": 1},
        "POST /api/communities/{community_id}/rules/accept": {"version": 1},
        "PUT /api/leader/communities/{community_id}/rules": {"text": "只发团购, 文明交流"},
        "POST /api/reports": {"kind": "post", "id": 1, "reason": "spam"},
        **{
            f"POST /api/moderation/{{kind}}/{{target_id}}/{verb}": {"reason": "广告"}
            for verb in ("hide", "restore", "approve")
        },
        "POST /api/leader/communities/{community_id}/mutes": {
            "user_id": member["user_id"],
            "period": "1h",
            "reason": "刷屏",
        },
        "POST /api/leader/communities/{community_id}/admins": {"user_id": member["user_id"]},
        "POST /api/leader/sub-leaders": {"leader_id": leader2["leader_id"]},
        "POST /api/listings/{listing_id}/orders": {"items": {str(open_item): 1}},
        "POST /api/leader/waves": publish,
        "POST /api/leader/waves/{wave_id}/adopt": own_point,
        "POST /api/leader/withdrawals": {"amount": 1},
        "POST /api/me/referral/withdrawals": {"amount": 1},
        "PUT /api/admin/referral/settings": {"level1_bps": 1000, "level2_bps": 500},
        "POST /api/supplier/waves/{wave_id}/shipments": {"pickup_point_ids": None},
        "POST /api/leader/pickups/verify": {
            "pickup_point_id": leader["pickup_point_id"],
            "code": code,  # picked up already: a 409 for its leader
        },
        "POST /api/leader/pickup-points/{pickup_point_id}/scan": png(),  # no QR: a 422
        "GET /api/leader/pickup-points/{pickup_point_id}/lookup": {"phone_tail": "0000"},
        "POST /api/leader/pickups/hand-over": {
            "pickup_point_id": leader["pickup_point_id"],
            "order_id": wave_order,  # picked up already: a 409 for its leader
        },
        "POST /api/uploads": png(),
        "POST /api/photos": png(),
        "POST /api/aftersales": case_body,
        "POST /api/aftersales/{case_id}/reject": {"reason": "照片看不出破损"},
        "POST /api/admin/risk/cases/{risk_case_id}/decision": {"decision": "clear"},
        "POST /api/wave-orders/{order_id}/rating": {"stars": 5},
        "POST /api/orders/{order_id}/reviews": review_body,
        "POST /api/reviews/{review_id}/reply": {"text": "谢谢支持"},
        "POST /api/leader/communities/{community_id}/leaderboard/award": {
            "month": "2026-11",
            "members": [1],
            "points": 10,
        },
        "PUT /api/admin/leaderboard/settings": {"members": 3, "points": 100},
        "PUT /api/admin/skus/{sku_id}/terms": {"floor_price": 700, "max_commission_bps": 1000},
        "PUT /api/supplier/skus/{sku_id}/terms": {"floor_price": 700, "max_commission_bps": 1000},
        "POST /api/admin/sub-leader-links/{link_id}/end": {"reason": "双方同意"},
        "POST /api/communities/{community_id}/proposals": {"title": "蓝莓", "target_price": 3990},
        "PUT /api/proposals/{proposal_id}/vote": {"pledge": 2},
        "PUT /api/leader/communities/{community_id}/cocreate-settings": {"votes": 20, "units": 50},
        "POST /api/admin/communities/{community_id}/suppliers": {"supplier_id": w.supplier_id},
        "POST /api/supplier/proposals/{proposal_id}/convert": {
            "sku_id": apples,
            "price": 1000,
            "moq": 1,
            "stock": 10,
            "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
            "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
        },
        "POST /api/leader/proposals/{proposal_id}/convert": {
            "sku_id": apples,
            "price": 1000,
            "moq": 1,
            "stock": 10,
            "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
            "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
            "pickup_point_id": leader["pickup_point_id"],
        },
        "POST /api/admin/categories": {"name": "蔬菜"},
        "POST /api/coupons/{coupon_id}/buy": {"key": "matrix"},  # no points: a 409
        "GET /api/me/coupons/quote": {"kind": "wave", "amount": 3000},
        "POST /api/admin/coupons": coupon_body,
        "PUT /api/admin/coupons/{coupon_id}": coupon_body,
        "PUT /api/admin/coupons/{coupon_id}/status": {"active": True},
        "POST /api/communities/{community_id}/posts": {"text": "今天的菜很新鲜"},
        "POST /api/posts/{post_id}/replies": {"text": "谢谢分享"},
        "PUT /api/leader/communities/{community_id}/rhythm": {"deals_per_day": 3},
        "PATCH /api/admin/categories/{category_id}": {"hidden": False},
        "PUT /api/admin/products/{product_id}/category": {"category_id": None},
        **{
            f"{verb} /api/admin/tasks{tail}": {"action": "checkin", "count": 3, "points": 20}
            for verb, tail in (("POST", ""), ("PUT", "/{task_id}"))
        },
        "POST /api/admin/points/adjust": {
            "member_id": member["user_id"],
            "points": 5,
            "note": "补",
        },
        **{
            f"{verb} /api/me/addresses{tail}": {
                "name": "李阿姨",
                "phone": "13800138000",
                "region": "浙江省 杭州市 西湖区",
                "detail": "幸福小区 3 栋 501",
            }
            for verb, tail in (("POST", ""), ("PUT", "/{address_id}"))
        },
    }
    return World(headers, ids, by_path, bodies)


def concrete(world: World, path: str) -> str:
    ids = {**world.ids, **world.by_path.get(path, {})}
    return re.sub(r"\{([^}]+)\}", lambda m: str(ids[m.group(1)]), path)


def call(client: TestClient, world: World, row: Row, column: str) -> Any:
    body = world.bodies.get(f"{row.method} {row.path}", {})
    headers = dict(world.headers[column])
    url = concrete(world, row.path)
    if isinstance(body, bytes):
        headers["Content-Type"] = "image/png"
        return client.request(row.method, url, content=body, headers=headers)
    if row.method == "GET":
        return client.request(row.method, url, params=body or None, headers=headers)
    return client.request(row.method, url, json=body, headers=headers)


def outcome(expected: str, r: Any) -> str | None:
    """What is wrong with the reply, or None."""
    code = r.json().get("code") if r.status_code >= 400 and r.content else None
    if r.status_code >= 500:
        return f"{r.status_code} {code}"
    if expected == "ok":
        return None if r.status_code not in (401, 403, 404) else f"{r.status_code} {code}"
    if r.status_code != int(expected):
        return f"{r.status_code} {code}"
    if r.headers["content-type"].startswith("application/problem+json"):
        return None
    return f"{r.status_code} without a problem body"


@pytest.fixture
def photo_storage(tmp_path: Path) -> Iterator[None]:
    from tuangou.core.storage import LocalDiskStorage, set_storage

    set_storage(LocalDiskStorage(tmp_path / "uploads"))
    yield
    set_storage(None)


def test_every_route_has_one_row(client: TestClient) -> None:
    served = set(api_routes(client.app))  # type: ignore[arg-type]
    assert len(served) > 100  # the walk found every router
    listed = [(row.method, row.path) for row in ROWS]
    assert len(listed) == len(set(listed)), "a route has two rows"
    assert served - set(listed) == set(), "routes without a row in MATRIX"
    assert set(listed) - served == set(), "rows in MATRIX for routes the app does not serve"


def test_matrix(api: Api, client: TestClient, photo_storage: None) -> None:
    from tuangou.core import liveness

    world = build_world(api)
    liveness.beat(force=True)  # a worker is alive: /api/ready answers 200
    wrong = []
    calls = 0
    for row in ROWS:
        # The refusals first: they must change nothing the allowed calls then rely on.
        order = sorted(COLUMNS, key=lambda col: row.expected[col] == "ok")
        for column in order:
            r = call(client, world, row, column)
            calls += 1
            problem = outcome(row.expected[column], r)
            if problem:
                wrong.append(
                    f"{row.method} {row.path} as {column}: "
                    f"expected {row.expected[column]}, got {problem}"
                )
    assert calls == len(ROWS) * len(COLUMNS)
    assert not wrong, "\n".join(wrong)


def test_the_table_refuses_and_allows(client: TestClient) -> None:
    """The matrix can fail: a refusal expected where the route allows is reported."""
    world = World(headers={"anon": {}}, ids={})
    r = call(client, world, Row("GET", "/api/health", {"anon": "401"}), "anon")
    assert outcome("401", r) == "200 None"
    assert outcome("ok", r) is None
    r = call(client, world, Row("GET", "/api/me", {"anon": "ok"}), "anon")
    assert outcome("ok", r) == "401 unauthenticated"
    assert outcome("401", r) is None


def test_staff_accounts_are_told_to_use_a_member_account(api: Api) -> None:
    """Finding 9: operators and suppliers' staff bought in team buys and applied to lead."""
    w = team_buy_world(api, 0)
    point = {"name": "店", "address": "幸福里", "latitude": 31.2, "longitude": 121.4}
    for who in (w.op, w.supplier):
        for path, body in (
            (f"/api/campaigns/{w.campaign['id']}/teams", {"quantity": 1}),
            ("/api/leader/applications", point),
            ("/api/orders", None),
        ):
            r = api.c.request("GET" if body is None else "POST", path, json=body, headers=who)
            assert r.status_code == 403, (path, r.text)
            assert r.json()["code"] == "staff_account"
            assert "use a member account" in r.json()["detail"]
    assert count("orders") == count("leader_applications") == 0
    # The same person buys with a member account.
    assert api.open(api.signup("运营的家人"), w.campaign["id"])["order"]["status"]
