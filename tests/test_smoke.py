from tests.conftest import Api, audit_violations


def test_team_forms_and_settles(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    campaign = api.campaign(op, sid)
    a, b = api.signup("李阿姨"), api.signup("王叔叔")
    opened = api.open(a, campaign["id"])
    team_id = opened["team"]["id"]
    assert api.team(team_id)["status"] == "open"
    api.join(b, team_id)
    team = api.team(team_id)
    assert team["status"] == "settled"
    assert [row["name"] for row in team["chain"]] == ["李*姨", "王*叔"]
    assert audit_violations() == []
