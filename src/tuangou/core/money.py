"""Money is an integer number of fen. Never a float."""

from __future__ import annotations


def fmt(fen: int) -> str:
    """1234 -> '¥12.34'; -5 -> '-¥0.05'; 123456789 -> '¥1,234,567.89' (thousands
    separated, as both languages write them)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def apply_bps(amount: int, bps: int) -> int:
    """``amount * bps / 10000`` rounded half up, in integers: the one rounding of a rate.

    Every share taken at a rate (the operator's fee, a leader's commission, an upline's
    override, and the fee given back when a refund claws one back) rounds half up, so a part
    taken back in full is exactly the part that was taken."""
    if amount < 0 or bps < 0:
        raise ValueError("amount and bps must not be negative")
    return (amount * bps + 5000) // 10000
