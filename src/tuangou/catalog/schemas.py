"""The catalogue's replies: suppliers, products and their SKUs."""

from __future__ import annotations

from tuangou.catalog.models import Product, Sku, Supplier
from tuangou.core.schemas import Out


class SupplierOut(Out):
    id: int
    name: str
    contact: str

    @classmethod
    def of(cls, s: Supplier) -> SupplierOut:
        return cls.model_construct(id=s.id, name=s.name, contact=s.contact)


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

    @classmethod
    def of(cls, s: Sku) -> SkuOut:
        return cls.model_construct(
            id=s.id,
            product_id=s.product_id,
            name=s.name,
            price=s.price,
            stock=s.stock,
            allocated=s.allocated,
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
