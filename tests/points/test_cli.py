"""``tuangou points expire`` and ``tuangou points show``, run in their own process: the
expiry moves what is past its end; show names the balance, the
level, the streak and what expires when."""

from __future__ import annotations

from datetime import date, time

import pytest

from tests.conftest import scalar
from tests.points.helpers import local, member, tx
from tests.test_cli import tuangou
from tuangou.points import service as points


# On SQLite only: a process start costs seconds, and the commands are the same service
# calls the tests of tests/points run on both backends.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_points_expire_and_show(db_url: str) -> None:
    a = member("小周")
    at_2000 = local(date(2000, 6, 1), time(12))
    tx(lambda s: points.award(s, user_id=a, reason="task", key="old", points=40, at=at_2000))
    tx(lambda s: points.award(s, user_id=a, reason="task", key="new", points=7))
    first = tuangou("points", "expire", url=db_url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "40 point(s) expired" in first.stdout
    assert scalar("SELECT COUNT(*) FROM points_transfers WHERE kind = 'expire'") == 1
    shown = tuangou("points", "show", str(a), url=db_url)
    assert shown.returncode == 0, shown.stderr
    assert f"member {a}: 7 points, 47 experience" in shown.stdout
    assert "新邻居" in shown.stdout and "expire after" in shown.stdout
