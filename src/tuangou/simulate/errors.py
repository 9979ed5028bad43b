"""The error codes of the what-if simulator (the classes are raised by its service)."""

from __future__ import annotations

from enum import StrEnum


class SimulateErrorCode(StrEnum):
    SIMULATION_NOT_FOUND = "simulation_not_found"
    INVALID_SIMULATION = "invalid_simulation"
