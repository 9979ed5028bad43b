"""The error codes of catalog (the classes are raised by its service)."""

from __future__ import annotations

from enum import StrEnum


class CatalogErrorCode(StrEnum):
    DUPLICATE_SUPPLIER = "duplicate_supplier"
    INSUFFICIENT_STOCK = "insufficient_stock"
    PRODUCT_NOT_FOUND = "product_not_found"
    SKU_NOT_FOUND = "sku_not_found"
    STOCK_BELOW_ALLOCATED = "stock_below_allocated"
    SUPPLIER_NOT_FOUND = "supplier_not_found"
