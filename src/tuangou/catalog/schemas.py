"""The catalogue's replies: suppliers, products and their SKUs."""

from __future__ import annotations

from pydantic import Field

from tuangou.catalog.models import Category, Product, Sku, Supplier
from tuangou.core.schemas import In, Out


class TermsIn(In):
    """A supplier's terms for leaders' waves on one SKU."""

    floor_price: int = Field(
        gt=0, description="the lowest unit price (fen), at most the single price"
    )
    max_commission_bps: int = Field(ge=0, le=5000, description="the highest leader commission")


class CategoryIn(In):
    """A new category."""

    name: str = Field(min_length=1, max_length=32)
    position: int | None = Field(
        default=None, ge=0, le=9999, description="its place on the strip (default: last)"
    )


class CategoryPatchIn(In):
    """Rename, move or hide a category (what is left out stays)."""

    name: str | None = Field(default=None, min_length=1, max_length=32)
    position: int | None = Field(default=None, ge=0, le=9999)
    hidden: bool | None = Field(
        default=None, description="off the members' strip; its products stay listed"
    )


class ProductCategoryIn(In):
    category_id: int | None = Field(description="the product's category (null: none)")


class CategoryOut(Out):
    id: int
    name: str
    position: int
    hidden: bool

    @classmethod
    def of(cls, c: Category) -> CategoryOut:
        return cls.model_construct(id=c.id, name=c.name, position=c.position, hidden=c.hidden)


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
    category_id: int | None = Field(default=None, description="the product's category")
    skus: list[SkuOut]

    @classmethod
    def of(cls, p: Product, skus: list[Sku]) -> ProductOut:
        return cls.model_construct(
            id=p.id,
            supplier_id=p.supplier_id,
            title=p.title,
            description=p.description,
            image_url=p.image_url,
            category_id=p.category_id,
            skus=[SkuOut.of(s) for s in skus],
        )
