"""Invite binding and two-level commission over HTTP and the worker, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.conftest import _auth, audit_violations, run_worker, scalar
from tests.referral.conftest import APPLE, Ref, uid
from tuangou.core import clock
from tuangou.core.db import run_in_transaction


def test_a_member_is_bound_once_at_signup_and_never_rebound(ref: Ref) -> None:
    a = ref.member("甲")
    b = ref.member("乙", invited_by=a)
    c = ref.member("丙")
    assert ref.me(b)["bound_to_inviter"] is True
    assert ref.me(c)["bound_to_inviter"] is False
    assert scalar("SELECT inviter_id FROM referral_members WHERE user_id = :u", u=uid(b)) == uid(a)

    from tuangou.referral import service as referral

    # A later link never rebinds b.
    c_code = ref.code(c)
    with pytest.raises(referral.BindingAlreadySet):
        run_in_transaction(lambda s: referral.bind(s, user_id=uid(b), code=c_code))
    assert scalar("SELECT inviter_id FROM referral_members WHERE user_id = :u", u=uid(b)) == uid(a)
    # Nobody invites themselves.
    with pytest.raises(referral.SelfInvite):
        run_in_transaction(lambda s: referral.bind(s, user_id=uid(c), code=c_code))
    # The database refuses it too.
    with pytest.raises(IntegrityError):
        run_in_transaction(
            lambda s: s.execute(
                text("UPDATE referral_members SET inviter_id = user_id WHERE user_id = :u"),
                {"u": uid(c)},
            )
        )
    # An unknown code is refused clearly and creates no account.
    users = scalar("SELECT COUNT(*) FROM users")
    r = ref.signup("丁", "NOSUCHCD")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invite_code_unknown"
    assert scalar("SELECT COUNT(*) FROM users") == users
    # The inviter sees the invitee, masked.
    r = ref.c.get("/api/me/referral/invitees", headers=_auth(a))
    assert r.status_code == 200, r.text
    [seen] = r.json()
    assert seen["user_id"] == uid(b)
    assert "*" in seen["masked_phone"]
    assert ref.me(a)["invitees"] == 1


def test_two_levels_never_a_third(ref: Ref) -> None:
    a = ref.member("甲")
    b = ref.member("乙", invited_by=a)
    c = ref.member("丙", invited_by=b)
    d = ref.member("丁", invited_by=c)
    order = ref.buy(d, apples=7)
    ref.settle()
    ref.complete(order)
    paid = 7 * APPLE
    assert ref.lines(order) == {
        1: (uid(c), paid * 1000 // 10000, 0, 1000),
        2: (uid(b), paid * 500 // 10000, 0, 500),
    }
    assert ref.wallet(a)["frozen"] == 0  # a third level earns nothing
    assert ref.wallet(c)["frozen"] == 700
    assert ref.wallet(b)["frozen"] == 350
    # The supplier's part paid the shares: the release still adds up to the order.
    assert (
        scalar(
            "SELECT SUM(amount) FROM ledger_entries WHERE transfer_id = :t AND amount > 0",
            t=f"release:{order}",
        )
        == paid
    )
    # A third level cannot even be written.
    with pytest.raises(IntegrityError):
        run_in_transaction(
            lambda s: s.execute(
                text(
                    "INSERT INTO referral_commissions (order_id, user_id, buyer_id, level,"
                    " base_amount, released, rate_bps, amount, reversed_amount, status,"
                    " created_at, available_at) VALUES (:o, :u, :b, 3, 100, 100, 100, 1, 0,"
                    " 'frozen', :t, :t)"
                ),
                {"o": order, "u": uid(a), "b": uid(d), "t": clock.now()},
            )
        )
    assert audit_violations() == []
    # After the after-sale window the commission is available, and withdrawable.
    clock.advance(timedelta(days=8))
    run_worker()
    assert ref.wallet(c) == {
        "frozen": 0,
        "available": 700,
        "withdrawing": 0,
        "withdrawn": 0,
        "debt": 0,
    }
    r = ref.withdraw(c, 701)
    assert r.status_code == 409 and r.json()["code"] == "withdrawal_exceeds_available"
    r = ref.withdraw(c, 500)
    assert r.status_code == 201, r.text
    assert ref.wallet(c)["withdrawing"] == 500
    # The operator pays it through the leaders' withdrawal flow.
    r = ref.c.post(f"/api/admin/withdrawals/{r.json()['id']}/approve", headers=ref.op)
    assert r.status_code == 200, r.text
    assert ref.wallet(c)["withdrawn"] == 500
    lines = ref.c.get("/api/me/referral/commissions", headers=_auth(c)).json()["items"]
    assert [(x["order_id"], x["withdrawn"], x["available"]) for x in lines] == [(order, 500, 200)]
    assert audit_violations() == []


def test_a_binding_ends_after_the_operators_days(ref: Ref) -> None:
    assert ref.settings(binding_days=3).status_code == 200
    a = ref.member("甲")
    b = ref.member("乙", invited_by=a)
    early = ref.buy(b)
    ref.settle()
    ref.complete(early)
    assert set(ref.lines(early)) == {1}
    clock.advance(timedelta(days=3))
    late = ref.buy(b)
    ref.settle()
    ref.complete(late)
    assert ref.lines(late) == {}  # judged at completion: the binding had ended
    from tuangou.referral import service as referral

    assert run_in_transaction(lambda s: referral.inviter_of(s, uid(b))) is None


def test_settings_are_validated_whole(ref: Ref) -> None:
    r = ref.settings(level1_bps=2000, level2_bps=1500)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_referral_settings"
    r = ref.settings(level1_bps=-1)
    assert r.status_code == 422
    r = ref.settings(mode="pyramid")
    assert r.status_code == 422
    got = ref.c.get("/api/admin/referral/settings", headers=ref.op).json()
    assert (got["level1_bps"], got["level2_bps"], got["binding_days"]) == (1000, 500, None)
    r = ref.settings(level1_bps=2000, level2_bps=1000, mode="min_spend", min_spend=5000)
    assert r.status_code == 200, r.text
    got = ref.c.get("/api/admin/referral/settings", headers=ref.op).json()
    assert (got["level1_bps"], got["mode"], got["min_spend"]) == (2000, "min_spend", 5000)
    from tuangou.referral import rules

    assert rules.problems(rules.Terms(level1_bps=3000, level2_bps=1)) != {}
    assert rules.problems(rules.Terms(level1_bps=3000, level2_bps=0)) == {}


def test_who_can_earn_is_judged_at_completion(ref: Ref) -> None:
    a = ref.member("甲")
    b = ref.member("乙", invited_by=a)
    assert ref.settings(mode="appointed").status_code == 200
    assert ref.me(a)["eligibility"]["code"] == "not_eligible_for_referral"
    first = ref.buy(b)
    second = ref.buy(b)
    ref.settle()
    ref.complete(first)
    assert ref.lines(first) == {}  # not a partner when it completed
    r = ref.c.post(f"/api/admin/referral/partners/{uid(a)}", headers=ref.op)
    assert r.status_code == 200, r.text
    assert ref.me(a)["eligibility"]["eligible"] is True
    ref.complete(second)
    assert set(ref.lines(second)) == {1}
    r = ref.c.delete(f"/api/admin/referral/partners/{uid(a)}", headers=ref.op)
    assert r.status_code == 200, r.text
    assert ref.c.get("/api/admin/referral/partners", headers=ref.op).json() == []
    # A minimum spend: a's own completed orders count.
    assert ref.settings(mode="min_spend", min_spend=APPLE).status_code == 200
    third = ref.buy(b, apples=1)
    own = ref.buy(a, apples=1)
    ref.settle()
    ref.complete(third)
    assert ref.lines(third) == {}  # a had spent nothing yet
    ref.complete(own)
    assert ref.lines(own) == {}  # an inviter buying for themselves earns nothing
    fourth = ref.buy(b, apples=1)
    ref.settle()
    ref.complete(fourth)
    assert set(ref.lines(fourth)) == {1}
    assert audit_violations() == []


def test_commission_on_ones_own_purchases_when_the_operator_allows_it(ref: Ref) -> None:
    a = ref.member("甲")
    b = ref.member("乙", invited_by=a)
    assert ref.settings(self_purchase=True).status_code == 200
    order = ref.buy(b, apples=2)
    ref.settle()
    ref.complete(order)
    assert ref.lines(order) == {1: (uid(b), 200, 0, 1000), 2: (uid(a), 100, 0, 500)}
