"""Suppliers, products and SKUs with their stock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.catalog.errors import CatalogErrorCode
from tuangou.catalog.models import Product, Sku, Supplier
from tuangou.core import clock
from tuangou.core.db import get_or_404
from tuangou.core.errors import Conflict, InvalidInput, NotFound


class SupplierNotFound(NotFound):
    code = CatalogErrorCode.SUPPLIER_NOT_FOUND
    title = "No such supplier"


class ProductNotFound(NotFound):
    code = CatalogErrorCode.PRODUCT_NOT_FOUND
    title = "No such product"


class SkuNotFound(NotFound):
    code = CatalogErrorCode.SKU_NOT_FOUND
    title = "No such SKU"


class DuplicateSupplier(Conflict):
    code = CatalogErrorCode.DUPLICATE_SUPPLIER
    title = "A supplier with this name exists"


class StockBelowAllocated(Conflict):
    code = CatalogErrorCode.STOCK_BELOW_ALLOCATED
    title = "Stock cannot go below what campaigns already hold"


class InsufficientStock(Conflict):
    code = CatalogErrorCode.INSUFFICIENT_STOCK
    title = "The SKU does not have that much unallocated stock"


def create_supplier(session: Session, *, name: str, contact: str = "") -> Supplier:
    name = name.strip()
    if not name:
        raise InvalidInput("a supplier needs a name", field="name")
    if session.scalar(select(Supplier.id).where(Supplier.name == name)) is not None:
        raise DuplicateSupplier()
    supplier = Supplier(name=name, contact=contact.strip(), created_at=clock.now())
    session.add(supplier)
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateSupplier() from exc
    return supplier


def get_supplier(session: Session, supplier_id: int) -> Supplier:
    return get_or_404(session, Supplier, supplier_id, SupplierNotFound)


def list_suppliers(session: Session) -> list[Supplier]:
    return list(session.scalars(select(Supplier).order_by(Supplier.id)))


def create_product(
    session: Session, *, supplier_id: int, title: str, description: str = "", image_url: str = ""
) -> Product:
    get_supplier(session, supplier_id)
    if not title.strip():
        raise InvalidInput("a product needs a title", field="title")
    product = Product(
        supplier_id=supplier_id,
        title=title.strip(),
        description=description,
        image_url=image_url,
        created_at=clock.now(),
    )
    session.add(product)
    session.flush()
    return product


def get_product(session: Session, product_id: int) -> Product:
    return get_or_404(session, Product, product_id, ProductNotFound)


def list_products(session: Session, *, supplier_id: int | None = None) -> list[Product]:
    query = select(Product).order_by(Product.id)
    if supplier_id is not None:
        query = query.where(Product.supplier_id == supplier_id)
    return list(session.scalars(query))


def create_sku(session: Session, *, product_id: int, name: str, price: int, stock: int) -> Sku:
    get_product(session, product_id)
    if price <= 0:
        raise InvalidInput("price must be a positive number of fen", field="price")
    if stock < 0:
        raise InvalidInput("stock cannot be negative", field="stock")
    sku = Sku(
        product_id=product_id,
        name=name.strip() or "默认",
        price=price,
        stock=stock,
        allocated=0,
        created_at=clock.now(),
    )
    session.add(sku)
    session.flush()
    return sku


def get_sku(session: Session, sku_id: int) -> Sku:
    return get_or_404(session, Sku, sku_id, SkuNotFound)


def sku_summary(session: Session, sku_id: int) -> dict[str, Any]:
    """What a shopper sees of a SKU: its product's id, title, description and picture, and
    the SKU's name."""
    sku = get_sku(session, sku_id)
    product = get_product(session, sku.product_id)
    return {
        "id": product.id,
        "title": product.title,
        "description": product.description,
        "image_url": product.image_url,
        "sku_name": sku.name,
    }


def skus_of(session: Session, product_id: int) -> list[Sku]:
    return list(session.scalars(select(Sku).where(Sku.product_id == product_id).order_by(Sku.id)))


def set_stock(session: Session, *, sku_id: int, stock: int) -> Sku:
    if stock < 0:
        raise InvalidInput("stock cannot be negative", field="stock")
    get_sku(session, sku_id)
    moved = session.execute(
        update(Sku).where(Sku.id == sku_id, Sku.allocated <= stock).values(stock=stock)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise StockBelowAllocated()
    sku = get_sku(session, sku_id)
    session.refresh(sku)
    return sku


def allocate(session: Session, *, sku_id: int, quantity: int) -> None:
    """Set aside ``quantity`` units of a SKU for a campaign (a guarded write)."""
    moved = session.execute(
        update(Sku)
        .where(Sku.id == sku_id, Sku.allocated + quantity <= Sku.stock)
        .values(allocated=Sku.allocated + quantity)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise InsufficientStock()


def settle_allocation(session: Session, *, sku_id: int, allocated: int, sold: int) -> None:
    """A campaign that had set aside ``allocated`` units ended having sold ``sold`` of them:
    the sold units leave the SKU's stock, the rest are free to allocate again."""
    if not 0 <= sold <= allocated:
        raise ValueError(f"sold {sold} must be within the allocation {allocated}")
    moved = session.execute(
        update(Sku)
        .where(Sku.id == sku_id, Sku.allocated >= allocated, Sku.stock >= sold)
        .values(allocated=Sku.allocated - allocated, stock=Sku.stock - sold)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:  # the books disagree: never settle blind (the caller's transaction rolls back)
        raise RuntimeError(f"SKU {sku_id} does not hold an allocation of {allocated}")
