"""The member's home and team-buy pages."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
