"""The catalogue's replies: suppliers, products and their SKUs."""

from __future__ import annotations

from pydantic import Field

from tuangou.catalog.models import Product, Sku, Supplier
from tuangou.core.schemas import In, Out


class TermsIn(In):
    """A supplier's terms for leaders' waves on one SKU."""

    floor_price: int = Field(
        gt=0, description="the lowest unit price (fen), at most the single price"
    )
    max_commission_bps: int = Field(ge=0, le=5000, description="the highest leader commission")


class SupplierOut(Out):
    id: int
    name: str
    contact: str
    leader_id: int | None = Field(
        default=None, description="the leader whose own goods these are (None: independent)"
    )

    @classmethod
    def of(cls, s: Supplier) -> SupplierOut:
        return cls.model_construct(id=s.id, name=s.name, contact=s.contact, leader_id=s.leader_id)


class SupplierUserOut(Out):
    """A supplier's staff log-in."""

    id: int
    phone: str
    role: str
    supplier_id: int


class SkuOut(Out):
    id: int
    product_id: int
    name: str
    price: int
    stock: int
    allocated: int
    floor_price: int = Field(
        description="the supplier's floor: the lowest unit price (fen) of a leader's wave"
    )
    max_commission_bps: int = Field(
        description="the supplier's maximum leader commission on this SKU (basis points)"
    )

    @classmethod
    def of(cls, s: Sku) -> SkuOut:
        return cls.model_construct(
            id=s.id,
            product_id=s.product_id,
            name=s.name,
            price=s.price,
            stock=s.stock,
            allocated=s.allocated,
            floor_price=s.floor_price,
            max_commission_bps=s.max_commission_bps,
        )


class ProductOut(Out):
    id: int
    supplier_id: int
    title: str
    description: str
    image_url: str
    skus: list[SkuOut]

    @classmethod
    def of(cls, p: Product, skus: list[Sku]) -> ProductOut:
        return cls.model_construct(
            id=p.id,
            supplier_id=p.supplier_id,
            title=p.title,
            description=p.description,
            image_url=p.image_url,
            skus=[SkuOut.of(s) for s in skus],
        )
