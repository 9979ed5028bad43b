from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from tuangou.accounts import service as accounts
from tuangou.accounts.schemas import Phone
from tuangou.api.deps import MaybeCaller, Operator, SupplierStaff
from tuangou.catalog import service as catalog
from tuangou.catalog.schemas import (
    CategoryIn,
    CategoryOut,
    CategoryPatchIn,
    ProductCategoryIn,
    ProductOut,
    SkuOut,
    SupplierOut,
    SupplierUserOut,
    TermsIn,
)
from tuangou.communities import service as communities
from tuangou.core.db import unit_of_work
from tuangou.core.schemas import In

router = APIRouter()
admin = APIRouter(prefix="/admin", tags=["operator: catalog"])
supplier = APIRouter(prefix="/supplier", tags=["supplier"])


class SupplierIn(In):
    name: str = Field(min_length=1, max_length=128)
    contact: str = Field(default="", max_length=128)
    leader_id: int | None = Field(
        default=None, description="a leader's own goods: the leader who runs this supplier"
    )


class SupplierUserIn(In):
    phone: Phone
    password: str = Field(min_length=8, max_length=128)
    nickname: str = Field(default="", max_length=32)


class ProductIn(In):
    supplier_id: int
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    image_url: str = ""


class SkuIn(In):
    name: str = Field(default="", max_length=128)
    price: int = Field(gt=0, description="single (non-group) price in fen")
    stock: int = Field(ge=0)
    floor_price: int | None = Field(
        default=None, gt=0, description="the supplier's floor (fen); default 70% of the price"
    )
    max_commission_bps: int | None = Field(
        default=None, ge=0, le=5000, description="the supplier's maximum commission; default 10%"
    )


class StockIn(In):
    stock: int = Field(ge=0)


@admin.post("/suppliers", status_code=201)
def create_supplier(body: SupplierIn, who: Operator) -> SupplierOut:
    with unit_of_work() as session:
        if body.leader_id is not None:
            communities.get_leader(session, body.leader_id)
        return SupplierOut.of(
            catalog.create_supplier(
                session, name=body.name, contact=body.contact, leader_id=body.leader_id
            )
        )


@admin.get("/suppliers")
def list_suppliers(who: Operator) -> list[SupplierOut]:
    with unit_of_work(readonly=True) as session:
        return [SupplierOut.of(s) for s in catalog.list_suppliers(session)]


@admin.post("/suppliers/{supplier_id}/users", status_code=201)
def create_supplier_user(supplier_id: int, body: SupplierUserIn, who: Operator) -> SupplierUserOut:
    """Give a supplier's staff a log-in (role ``supplier``)."""
    with unit_of_work() as session:
        catalog.get_supplier(session, supplier_id)
        user = accounts.create_user(
            session,
            phone=body.phone,
            password=body.password,
            nickname=body.nickname,
            role="supplier",
            supplier_id=supplier_id,
        )
        return SupplierUserOut(
            id=user.id, phone=user.phone, role=user.role, supplier_id=supplier_id
        )


@admin.post("/products", status_code=201)
def create_product(body: ProductIn, who: Operator) -> ProductOut:
    with unit_of_work() as session:
        product = catalog.create_product(
            session,
            supplier_id=body.supplier_id,
            title=body.title,
            description=body.description,
            image_url=body.image_url,
        )
        return ProductOut.of(product, [])


@admin.get("/products")
def list_products(who: Operator, supplier_id: int | None = None) -> list[ProductOut]:
    with unit_of_work(readonly=True) as session:
        return [
            ProductOut.of(p, catalog.skus_of(session, p.id))
            for p in catalog.list_products(session, supplier_id=supplier_id)
        ]


@admin.post("/products/{product_id}/skus", status_code=201)
def create_sku(product_id: int, body: SkuIn, who: Operator) -> SkuOut:
    with unit_of_work() as session:
        return SkuOut.of(
            catalog.create_sku(
                session,
                product_id=product_id,
                name=body.name,
                price=body.price,
                stock=body.stock,
                floor_price=body.floor_price,
                max_commission_bps=body.max_commission_bps,
            )
        )


@admin.put("/skus/{sku_id}/stock")
def set_stock(sku_id: int, body: StockIn, who: Operator) -> SkuOut:
    with unit_of_work() as session:
        return SkuOut.of(catalog.set_stock(session, sku_id=sku_id, stock=body.stock))


@admin.put("/skus/{sku_id}/terms")
def set_terms(sku_id: int, body: TermsIn, who: Operator) -> SkuOut:
    """Set a SKU's terms for leaders' waves on its supplier's behalf."""
    with unit_of_work() as session:
        return SkuOut.of(
            catalog.set_terms(
                session,
                sku_id=sku_id,
                floor_price=body.floor_price,
                max_commission_bps=body.max_commission_bps,
                supplier_id=None,
            )
        )


# ---------------------------------------------------------------- categories

categories = APIRouter(tags=["catalog"])


@categories.get("/categories")
def list_categories(who: MaybeCaller) -> list[CategoryOut]:
    """The categories of the members' strip, in order (an operator sees the hidden too)."""
    operator = who is not None and who.role == "operator"
    with unit_of_work(readonly=True) as session:
        return [
            CategoryOut.of(c) for c in catalog.list_categories(session, visible_only=not operator)
        ]


@admin.post("/categories", status_code=201)
def create_category(body: CategoryIn, who: Operator) -> CategoryOut:
    with unit_of_work() as session:
        return CategoryOut.of(
            catalog.create_category(session, name=body.name, position=body.position)
        )


@admin.patch("/categories/{category_id}")
def update_category(category_id: int, body: CategoryPatchIn, who: Operator) -> CategoryOut:
    """Rename, move or hide a category."""
    with unit_of_work() as session:
        return CategoryOut.of(
            catalog.update_category(
                session,
                category_id,
                name=body.name,
                position=body.position,
                hidden=body.hidden,
            )
        )


@admin.put("/products/{product_id}/category")
def set_product_category(product_id: int, body: ProductCategoryIn, who: Operator) -> ProductOut:
    """Put a product in a category (null: in none)."""
    with unit_of_work() as session:
        product = catalog.set_product_category(
            session, product_id=product_id, category_id=body.category_id
        )
        return ProductOut.of(product, catalog.skus_of(session, product.id))


# ---------------------------------------------------------------- a supplier's own staff


@supplier.get("/products")
def my_products(who: SupplierStaff) -> list[ProductOut]:
    """Your products and their SKUs, with the terms leaders' waves must keep."""
    assert who.supplier_id is not None
    with unit_of_work(readonly=True) as session:
        return [
            ProductOut.of(p, catalog.skus_of(session, p.id))
            for p in catalog.list_products(session, supplier_id=who.supplier_id)
        ]


@supplier.put("/skus/{sku_id}/terms")
def set_my_terms(sku_id: int, body: TermsIn, who: SupplierStaff) -> SkuOut:
    """Your terms for leaders' waves on one of your SKUs: the floor price (base price and
    every tier) and the maximum leader commission. Waves published later must keep them."""
    assert who.supplier_id is not None
    with unit_of_work() as session:
        return SkuOut.of(
            catalog.set_terms(
                session,
                sku_id=sku_id,
                floor_price=body.floor_price,
                max_commission_bps=body.max_commission_bps,
                supplier_id=who.supplier_id,
            )
        )


router.include_router(admin)
router.include_router(categories)
router.include_router(supplier)
