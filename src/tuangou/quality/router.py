from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tuangou.api.deps import Caller, Operator, SupplierStaff
from tuangou.communities import service as communities
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.quality import schemas
from tuangou.quality import service as quality

router = APIRouter(tags=["supplier quality"])


@router.get("/admin/quality/suppliers", response_model=list[schemas.SupplierQualityOut])
def supplier_records(who: Operator) -> list[Any]:
    """Every supplier's quality record, flagged ones first."""
    with unit_of_work(readonly=True) as session:
        return [schemas.SupplierQualityOut.of(r) for r in quality.records(session)]


@router.get("/admin/quality/suppliers/{supplier_id}", response_model=schemas.SupplierQualityOut)
def supplier_record(supplier_id: int, who: Operator) -> Any:
    with unit_of_work(readonly=True) as session:
        return schemas.SupplierQualityOut.of(quality.record(session, supplier_id))


@router.get("/admin/quality/thresholds", response_model=schemas.ThresholdsOut)
def thresholds(who: Operator) -> Any:
    with unit_of_work(readonly=True) as session:
        return schemas.ThresholdsOut.of(quality.get_thresholds(session))


@router.put("/admin/quality/thresholds", response_model=schemas.ThresholdsOut)
def set_thresholds(body: schemas.ThresholdsIn, who: Operator) -> Any:
    """Set every threshold at once; 422 ``invalid_quality_thresholds`` changes nothing."""
    saved = run_in_transaction(
        lambda s: quality.set_thresholds(
            s, quality.Thresholds(**body.model_dump()), user_id=who.user_id
        )
    )
    return schemas.ThresholdsOut.of(saved)


@router.get("/supplier/quality", tags=["supplier"], response_model=schemas.SupplierQualityOut)
def my_record(who: SupplierStaff) -> Any:
    """Your own quality record, as operators and leaders see it."""
    assert who.supplier_id is not None
    with unit_of_work(readonly=True) as session:
        return schemas.SupplierQualityOut.of(quality.record(session, who.supplier_id))


@router.get(
    "/leader/suppliers/{supplier_id}/quality",
    tags=["leaders"],
    response_model=schemas.SupplierQualityOut,
)
def record_for_leaders(supplier_id: int, who: Caller) -> Any:
    """A supplier's quality record, for a leader choosing which supplier's wave to adopt."""
    with unit_of_work(readonly=True) as session:
        communities.get_leader_by_user(session, who.user_id)  # 403 for anyone else
        return schemas.SupplierQualityOut.of(quality.record(session, supplier_id))
