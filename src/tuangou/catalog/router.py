from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from tuangou.accounts import service as accounts
from tuangou.accounts.schemas import Phone
from tuangou.api.deps import Operator
from tuangou.catalog import service as catalog
from tuangou.catalog.schemas import ProductOut, SkuOut, SupplierOut, SupplierUserOut
from tuangou.core.db import unit_of_work
from tuangou.core.schemas import In

router = APIRouter(prefix="/admin", tags=["operator: catalog"])


class SupplierIn(In):
    name: str = Field(min_length=1, max_length=128)
    contact: str = Field(default="", max_length=128)


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


class StockIn(In):
    stock: int = Field(ge=0)


@router.post("/suppliers", status_code=201)
def create_supplier(body: SupplierIn, who: Operator) -> SupplierOut:
    with unit_of_work() as session:
        return SupplierOut.of(
            catalog.create_supplier(session, name=body.name, contact=body.contact)
        )


@router.get("/suppliers")
def list_suppliers(who: Operator) -> list[SupplierOut]:
    with unit_of_work(readonly=True) as session:
        return [SupplierOut.of(s) for s in catalog.list_suppliers(session)]


@router.post("/suppliers/{supplier_id}/users", status_code=201)
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


@router.post("/products", status_code=201)
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


@router.get("/products")
def list_products(who: Operator, supplier_id: int | None = None) -> list[ProductOut]:
    with unit_of_work(readonly=True) as session:
        return [
            ProductOut.of(p, catalog.skus_of(session, p.id))
            for p in catalog.list_products(session, supplier_id=supplier_id)
        ]


@router.post("/products/{product_id}/skus", status_code=201)
def create_sku(product_id: int, body: SkuIn, who: Operator) -> SkuOut:
    with unit_of_work() as session:
        return SkuOut.of(
            catalog.create_sku(
                session, product_id=product_id, name=body.name, price=body.price, stock=body.stock
            )
        )


@router.put("/skus/{sku_id}/stock")
def set_stock(sku_id: int, body: StockIn, who: Operator) -> SkuOut:
    with unit_of_work() as session:
        return SkuOut.of(catalog.set_stock(session, sku_id=sku_id, stock=body.stock))
