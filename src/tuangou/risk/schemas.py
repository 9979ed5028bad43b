"""The risk engine's request and reply shapes (the operator's review queue)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.risk.service import CaseView


class ReasonOut(Out):
    code: str = Field(description="the signal, e.g. help_burst, dense_ring, same_person")
    text: str = Field(description="the signal in words an operator can read")
    text_zh: str


class CaseMemberOut(Out):
    id: int
    name: str = Field(description="the member's masked name")
    flag: str | None = Field(description="flagged, blocked, or none")


class EdgeOut(Out):
    a: str = Field(description="m:<member>, d:<device>, p:<phone>, y:<payout>, t:<target>")
    b: str
    kind: str = Field(description="help, invite, acts-on, device, phone, payout")


class RiskCaseOut(Out):
    id: int
    kind: str
    source: str = Field(description="graph (the worker's graph work) or event (a held event)")
    status: str = Field(description="open, confirmed or cleared")
    opened_at: Iso
    decided_at: Iso | None
    note: str | None
    members: list[CaseMemberOut]
    reasons: list[ReasonOut]

    @classmethod
    def of(cls, c: CaseView) -> RiskCaseOut:
        return cls.model_construct(**_common(c))


class RiskCaseDetailOut(RiskCaseOut):
    edges: list[EdgeOut] = Field(
        description="the graph around the case (at most 400 edges; phone numbers masked)"
    )

    @classmethod
    def of(cls, c: CaseView) -> RiskCaseDetailOut:
        return cls.model_construct(
            **_common(c),
            edges=[
                EdgeOut.model_construct(a=_masked(a), b=_masked(b), kind=k) for a, b, k in c.edges
            ],
        )


def _masked(node: str) -> str:
    """A phone number as operators see it (p:138****8000); other nodes as they are."""
    return "p:" + accounts.mask_phone(node[2:]) if node.startswith("p:") else node


def _common(c: CaseView) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "source": c.source,
        "status": c.status,
        "opened_at": clock.iso(c.opened_at),
        "decided_at": clock.iso(c.decided_at),
        "note": c.note,
        "members": [
            CaseMemberOut.model_construct(id=m.id, name=m.name, flag=m.flag) for m in c.members
        ],
        "reasons": [
            ReasonOut.model_construct(code=r.code, text=r.text("en"), text_zh=r.text("zh"))
            for r in c.reasons
        ],
    }


class DecisionIn(In):
    decision: Literal["confirm", "clear"] = Field(
        description="confirm: block the members and reverse their gains; clear: not suspects "
        "(the same evidence flags them no more)"
    )
    note: str = Field(default="", max_length=500)


class AnalysedOut(Out):
    opened: int = Field(description="cases the graph work opened")
