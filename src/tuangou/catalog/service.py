"""Suppliers, products and SKUs with their stock, and each SKU's terms for leaders.

A supplier's SKU carries the supplier's terms for the waves leaders publish with it: a
**floor price** (the lowest unit price, base price and every tier) and a **maximum leader
commission** (basis points). A leader's own goods (a supplier record the leader runs,
``Supplier.leader_id``) carry terms too, but they bind only other leaders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.catalog.errors import CatalogErrorCode
from tuangou.catalog.models import Category, Product, Sku, Supplier
from tuangou.catalog.rules import goods_name
from tuangou.core import clock
from tuangou.core.db import get_or_404
from tuangou.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound

# The terms of a SKU nobody set terms for (docs/ARCHITECTURE.md, *Supplier terms*).
DEFAULT_FLOOR_PERCENT = 70  # of the single price, rounded up to a whole fen
DEFAULT_MAX_COMMISSION_BPS = 1000  # the platform's default leader commission, 10%
MAX_COMMISSION_BPS = 5000  # no commission goes beyond 50%, whatever the terms


def default_floor(price: int) -> int:
    """The floor of a SKU whose supplier set none: 70% of its single price, rounded up."""
    return (price * DEFAULT_FLOOR_PERCENT + 99) // 100


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


class PriceBelowFloor(DomainError):
    code = CatalogErrorCode.PRICE_BELOW_FLOOR
    status = 422
    title = "The price is below the supplier's floor price for this SKU"


class CommissionAboveMax(DomainError):
    code = CatalogErrorCode.COMMISSION_ABOVE_MAX
    status = 422
    title = "The commission is above the supplier's maximum for this SKU"


class NotYourSku(Forbidden):
    code = CatalogErrorCode.NOT_YOUR_SKU
    title = "This SKU belongs to another supplier"


class CategoryNotFound(NotFound):
    code = CatalogErrorCode.CATEGORY_NOT_FOUND
    title = "No such category"


class DuplicateCategory(Conflict):
    code = CatalogErrorCode.DUPLICATE_CATEGORY
    title = "A category with this name exists"


class LeaderHasSupplier(Conflict):
    code = CatalogErrorCode.LEADER_HAS_SUPPLIER
    title = "This leader already runs a supplier record"


def create_supplier(
    session: Session, *, name: str, contact: str = "", leader_id: int | None = None
) -> Supplier:
    """A supplier; with ``leader_id``, the record of a leader's own goods (the caller checks
    that the leader exists: the catalogue does not know leaders)."""
    name = name.strip()
    if not name:
        raise InvalidInput("a supplier needs a name", field="name")
    if session.scalar(select(Supplier.id).where(Supplier.name == name)) is not None:
        raise DuplicateSupplier()
    if leader_id is not None and supplier_of_leader(session, leader_id) is not None:
        raise LeaderHasSupplier(field="leader_id")
    supplier = Supplier(
        name=name, contact=contact.strip(), leader_id=leader_id, created_at=clock.now()
    )
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


def supplier_of_leader(session: Session, leader_id: int) -> Supplier | None:
    """The supplier record of a leader's own goods, if the leader runs one."""
    return session.scalar(select(Supplier).where(Supplier.leader_id == leader_id))


def is_own_goods(session: Session, *, supplier_id: int, leader_id: int) -> bool:
    """Whether the supplier is the record of this leader's own goods."""
    return get_supplier(session, supplier_id).leader_id == leader_id


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


def _check_terms_input(price: int, floor_price: int, max_commission_bps: int) -> None:
    if not 0 < floor_price <= price:
        raise InvalidInput(
            "the floor price must be more than zero and at most the single price",
            field="floor_price",
        )
    if not 0 <= max_commission_bps <= MAX_COMMISSION_BPS:
        raise InvalidInput("the maximum commission must be 0 to 50%", field="max_commission_bps")


def create_sku(
    session: Session,
    *,
    product_id: int,
    name: str,
    price: int,
    stock: int,
    floor_price: int | None = None,
    max_commission_bps: int | None = None,
) -> Sku:
    """A SKU; terms not given take the defaults (:func:`default_floor`, 10%)."""
    get_product(session, product_id)
    if price <= 0:
        raise InvalidInput("price must be a positive number of fen", field="price")
    if stock < 0:
        raise InvalidInput("stock cannot be negative", field="stock")
    floor = default_floor(price) if floor_price is None else floor_price
    most = DEFAULT_MAX_COMMISSION_BPS if max_commission_bps is None else max_commission_bps
    _check_terms_input(price, floor, most)
    sku = Sku(
        product_id=product_id,
        name=name.strip() or "默认",
        price=price,
        stock=stock,
        allocated=0,
        floor_price=floor,
        max_commission_bps=most,
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
        "name": goods_name(product.title, sku.name),
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


def supplier_id_of(session: Session, sku_id: int) -> int:
    return get_product(session, get_sku(session, sku_id).product_id).supplier_id


def set_terms(
    session: Session,
    *,
    sku_id: int,
    floor_price: int,
    max_commission_bps: int,
    supplier_id: int | None,
) -> Sku:
    """The supplier's terms for leaders' waves on a SKU. ``supplier_id`` is the caller's
    supplier (its staff change only its own SKUs); None for an operator. Waves already
    published keep their prices: the terms bind the waves published from now on."""
    sku = get_sku(session, sku_id)
    if supplier_id is not None and supplier_id_of(session, sku_id) != supplier_id:
        raise NotYourSku()
    _check_terms_input(sku.price, floor_price, max_commission_bps)
    sku.floor_price = floor_price
    sku.max_commission_bps = max_commission_bps
    session.flush()
    return sku


def check_terms(
    sku: Sku, *, prices: Sequence[tuple[str, int]], commissions: Sequence[tuple[str, int]]
) -> None:
    """Refuse a price or a commission outside the SKU's terms: ``prices`` and
    ``commissions`` are (field, value) pairs, the field named in the refusal."""
    for field, price in prices:
        if price < sku.floor_price:
            raise PriceBelowFloor(
                f"the supplier's floor price for this SKU is {sku.floor_price} fen",
                field=field,
                floor_price=sku.floor_price,
            )
    for field, bps in commissions:
        if bps > sku.max_commission_bps:
            raise CommissionAboveMax(
                f"the supplier allows at most {sku.max_commission_bps} bps on this SKU",
                field=field,
                max_commission_bps=sku.max_commission_bps,
            )


def allocate(
    session: Session,
    *,
    sku_id: int,
    quantity: int,
    within_terms: tuple[int, int] | None = None,
) -> None:
    """Set aside ``quantity`` units of a SKU for a campaign (a guarded write). With
    ``within_terms`` (the lowest unit price, the highest commission), the write is guarded
    by the SKU's terms too, so that terms changed since they were read are not missed."""
    query = update(Sku).where(Sku.id == sku_id, Sku.allocated + quantity <= Sku.stock)
    if within_terms is not None:
        lowest, commission = within_terms
        query = query.where(Sku.floor_price <= lowest, Sku.max_commission_bps >= commission)
    moved = session.execute(query.values(allocated=Sku.allocated + quantity)).rowcount  # type: ignore[attr-defined]
    if moved:
        return
    if within_terms is not None:
        sku = get_sku(session, sku_id)
        session.refresh(sku)
        check_terms(
            sku,
            prices=[("price", within_terms[0])],
            commissions=[("commission_bps", within_terms[1])],
        )
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


# ---------------------------------------------------------------- categories

CATEGORY_NAME_MAX = 32


def _category_name(session: Session, name: str, *, other_than: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("a category needs a name", field="name")
    if len(name) > CATEGORY_NAME_MAX:
        raise InvalidInput("a category's name has at most 32 characters", field="name")
    query = select(Category.id).where(Category.name == name)
    if other_than is not None:
        query = query.where(Category.id != other_than)
    if session.scalar(query) is not None:
        raise DuplicateCategory(field="name")
    return name


def create_category(session: Session, *, name: str, position: int | None = None) -> Category:
    """A category, last on the strip unless given a ``position``."""
    name = _category_name(session, name)
    if position is None:
        last = session.scalar(select(Category.position).order_by(Category.position.desc()))
        position = 0 if last is None else last + 1
    category = Category(name=name, position=position, hidden=False, created_at=clock.now())
    session.add(category)
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateCategory(field="name") from exc
    return category


def get_category(session: Session, category_id: int) -> Category:
    return get_or_404(session, Category, category_id, CategoryNotFound)


def update_category(
    session: Session,
    category_id: int,
    *,
    name: str | None = None,
    position: int | None = None,
    hidden: bool | None = None,
) -> Category:
    """Rename, move or hide a category (what is None stays). Hiding takes it off the
    members' strip; its products stay listed and found."""
    category = get_category(session, category_id)
    if name is not None:
        category.name = _category_name(session, name, other_than=category_id)
    if position is not None:
        if not 0 <= position <= 9999:
            raise InvalidInput("the position is 0 to 9999", field="position")
        category.position = position
    if hidden is not None:
        category.hidden = hidden
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateCategory(field="name") from exc
    return category


def list_categories(session: Session, *, visible_only: bool = False) -> list[Category]:
    """The categories in strip order (``visible_only``: those the members' strip shows)."""
    query = select(Category).order_by(Category.position, Category.id)
    if visible_only:
        query = query.where(Category.hidden.is_(False))
    return list(session.scalars(query))


def set_product_category(session: Session, *, product_id: int, category_id: int | None) -> Product:
    """Put a product in one category (None: in none)."""
    product = get_product(session, product_id)
    if category_id is not None:
        get_category(session, category_id)
    product.category_id = category_id
    session.flush()
    return product


def skus_with_products(session: Session, sku_ids: Sequence[int]) -> dict[int, tuple[Sku, Product]]:
    """Each SKU with its product, by SKU id (one query)."""
    if not sku_ids:
        return {}
    rows = session.execute(
        select(Sku, Product)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(sorted(set(sku_ids))))
    )
    return {sku.id: (sku, product) for sku, product in rows}
