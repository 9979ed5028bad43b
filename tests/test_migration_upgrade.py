"""Upgrading a SQLite database that already holds orders keeps them (SQLite rebuilds tables
to alter them, which needs foreign keys off during the migration)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from tuangou.core import migrate
from tuangou.core.db import make_engine


def test_upgrading_a_database_with_orders_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    cfg = migrate.config()
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
    db = sqlite3.connect(path)
    db.executescript(
        """
        INSERT INTO suppliers (id, name, contact, created_at) VALUES (1, 's', '', '2026-01-01');
        INSERT INTO products (id, supplier_id, title, description, image_url, created_at)
            VALUES (1, 1, 't', '', '', '2026-01-01');
        INSERT INTO skus (id, product_id, name, price, stock, allocated, created_at)
            VALUES (1, 1, 'a', 100, 10, 0, '2026-01-01');
        INSERT INTO users (id, phone, nickname, role, token_version, created_at)
            VALUES (1, '13800000000', 'x', 'member', 0, '2026-01-01');
        INSERT INTO orders (id, user_id, supplier_id, kind, campaign_id, sku_id, quantity,
            unit_price, amount, status, is_opener, paid_amount, refunded_amount, subsidy_amount,
            released_amount, address, created_at, expires_at)
            VALUES (1, 1, 1, 'team', 1, 1, 1, 100, 100, 'cancelled', 0, 0, 0, 0, 0, '{}',
                    '2026-01-01', '2026-01-01');
        INSERT INTO payments (id, order_id, user_id, amount, gateway, gateway_ref, status,
            created_at, updated_at)
            VALUES (1, 1, 1, 100, 'sandbox', 'r1', 'expired', '2026-01-01', '2026-01-01');
        """
    )
    db.commit()
    db.close()
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    db = sqlite3.connect(path)
    assert db.execute("SELECT id, status FROM orders").fetchall() == [(1, "cancelled")]
    assert db.execute("SELECT order_id FROM payments").fetchall() == [(1,)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()
    engine.dispose()


def test_upgrading_gives_settled_waves_allotments_back_to_their_skus(tmp_path: Path) -> None:
    """Before revision 0006 a settled wave kept its allotment; the upgrade settles it as a
    settlement now does: sold units leave the SKU's stock, the rest is free. An open wave
    keeps its allotment."""
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    cfg = migrate.config()
    with engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    db = sqlite3.connect(path)
    wave = """INSERT INTO waves (id, supplier_id, source, created_by, title, description,
        cutoff_at, delivery_date, status, commission_bps, unpicked_policy, unpicked_days,
        arrival_grace_days, auto_refund_undelivered, hold_minutes, created_at)
        VALUES ({id}, 1, 'leader', 1, 'w', '', '2026-01-01', '2026-01-02', '{status}', 0,
                'refund', 3, 2, 1, 15, '2026-01-01');"""
    item = """INSERT INTO wave_items (id, wave_id, sku_id, title, price, tiers, moq, stock, sold,
        held, per_member_limit, status) VALUES ({id}, {id}, 1, 'i', 100, '[]', 1, {stock}, {sold},
        0, 5, 'open');"""
    db.executescript(
        """
        INSERT INTO suppliers (id, name, contact, created_at) VALUES (1, 's', '', '2026-01-01');
        INSERT INTO products (id, supplier_id, title, description, image_url, created_at)
            VALUES (1, 1, 't', '', '', '2026-01-01');
        INSERT INTO skus (id, product_id, name, price, stock, allocated, created_at)
            VALUES (1, 1, 'a', 100, 100, 15, '2026-01-01');
        """
        + wave.format(id=1, status="settled")
        + item.format(id=1, stock=10, sold=4)
        + wave.format(id=2, status="open")
        + item.format(id=2, stock=5, sold=2)
    )
    db.commit()
    db.close()
    migrate.upgrade(engine)
    db = sqlite3.connect(path)
    assert db.execute("SELECT stock, allocated FROM skus").fetchall() == [(96, 5)]
    db.close()
    engine.dispose()
