"""The referral pages render for a member and an operator, the invite link keeps its code
in the sign-up form, the poster is a PNG, and the operator's form refuses a rate above the
cap without changing anything."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Api, scalar

PASSWORD = "secret123"


def _page_login(c: TestClient, phone: str) -> None:
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    r = c.post(
        "/login",
        data={"phone": phone, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]


def _csrf(c: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert found
    return found.group(1)


def test_a_member_signs_up_through_an_invite_link_and_sees_the_pages(api: Api) -> None:
    c = api.c
    inviter = api.signup("甲")
    code = c.get("/api/me/referral", headers={"Authorization": inviter["Authorization"]}).json()[
        "code"
    ]
    r = c.get(f"/i/{code}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/signup?invite={code}"
    page = c.get(r.headers["location"])
    assert f'value="{code}"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    phone = api.phone()
    r = c.post(
        "/signup",
        data={
            "phone": phone,
            "password": PASSWORD,
            "nickname": "乙",
            "invite_code": code,
            "csrf_token": token.group(1),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:800]
    invitee = scalar("SELECT id FROM users WHERE phone = :p", p=phone)
    assert scalar("SELECT inviter_id FROM referral_members WHERE user_id = :u", u=invitee) == int(
        inviter["user_id"]
    )
    for path in ("/me/referral", "/me/referral/invitees", "/me/referral/commissions"):
        r = c.get(path)
        assert r.status_code == 200, (path, r.text[:500])
    poster = c.get("/me/referral/poster.png")
    assert poster.status_code == 200
    assert poster.content.startswith(b"\x89PNG")
    # A logged-in member who opens an invite link is taken to their own page.
    r = c.get(f"/i/{code}", follow_redirects=False)
    assert r.headers["location"] == "/me/referral"


def test_an_unknown_invite_code_is_refused_on_the_form(api: Api) -> None:
    c = api.c
    token = _csrf(c, "/signup?invite=NOPE1234")
    phone = api.phone()
    r = c.post(
        "/signup",
        data={
            "phone": phone,
            "password": PASSWORD,
            "nickname": "丙",
            "invite_code": "NOPE1234",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 400
    assert 'id="e-invite_code"' in r.text
    assert scalar("SELECT COUNT(*) FROM users WHERE phone = :p", p=phone) == 0


def test_the_operator_sets_the_terms_and_appoints_partners(api: Api) -> None:
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction

    c = api.c
    member = api.signup("丁")
    phone = api.phone()
    run_in_transaction(
        lambda s: accounts.create_user(
            s, phone=phone, password=PASSWORD, nickname="运营", role="operator"
        )
    )
    _page_login(c, phone)
    assert c.get("/ops/referral").status_code == 200
    token = _csrf(c, "/ops/referral")
    form = {"level1": "20", "level2": "15", "mode": "everyone", "csrf_token": token}
    r = c.post("/ops/referral", data=form, follow_redirects=False)
    assert r.status_code == 400
    assert scalar("SELECT COUNT(*) FROM referral_settings") == 0
    form.update(level2="10", binding_days="30")
    r = c.post("/ops/referral", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    assert scalar("SELECT level1_bps + level2_bps FROM referral_settings") == 3000
    r = c.post(
        "/ops/referral/partners",
        data={"user_id": member["user_id"], "on": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = c.get("/ops/referral")
    assert f'id="partner-{member["user_id"]}"' in page.text
