"""``tuangou webhooks list`` and ``tuangou webhooks deliver``, in their own process."""

from __future__ import annotations

import pytest

from tests.conftest import rows
from tests.test_cli import tuangou
from tests.webhooks.conftest import URL, emit, endpoint


# On SQLite only: a process start costs seconds; the service underneath runs on both
# backends in test_service.py.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_list_and_deliver(db_url: str, allow_private: None) -> None:
    endpoint_id, secret = endpoint(description="ERP")
    emit()
    # Nobody listens on the discard port: the attempt is recorded with its error.
    sent = tuangou("webhooks", "deliver", url=db_url, TUANGOU_WEBHOOK_ALLOW_PRIVATE="true")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "1 request(s) sent" in sent.stdout
    assert secret not in sent.stdout + sent.stderr
    ((attempts, error),) = rows("SELECT attempts, last_error FROM webhook_deliveries")
    assert attempts == 1 and error
    listed = tuangou("webhooks", "list", url=db_url)
    assert listed.returncode == 0, listed.stderr
    assert URL in listed.stdout and "active" in listed.stdout and "order.completed" in listed.stdout
    assert secret not in listed.stdout
    assert endpoint_id == 1
