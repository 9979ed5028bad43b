"""The error codes of catalog (the classes are raised by its service)."""

from __future__ import annotations

from enum import StrEnum


class CatalogErrorCode(StrEnum):
    CATEGORY_NOT_FOUND = "category_not_found"
    COMMISSION_ABOVE_MAX = "commission_above_max"
    DUPLICATE_CATEGORY = "duplicate_category"
    DUPLICATE_SUPPLIER = "duplicate_supplier"
    INSUFFICIENT_STOCK = "insufficient_stock"
    LEADER_HAS_SUPPLIER = "leader_has_supplier"
    NOT_YOUR_SKU = "not_your_sku"
    PRICE_BELOW_FLOOR = "price_below_floor"
    PRODUCT_NOT_FOUND = "product_not_found"
    SKU_NOT_FOUND = "sku_not_found"
    STOCK_BELOW_ALLOCATED = "stock_below_allocated"
    SUPPLIER_NOT_FOUND = "supplier_not_found"
