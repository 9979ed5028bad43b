"""Pure rules of the catalogue."""

from __future__ import annotations


def goods_name(product_title: str, sku_name: str) -> str:
    """What a shopper calls one SKU: the product's title and the SKU's name, said once
    ("烟台红富士苹果 5斤装" with the SKU "5斤装" stays as it is, never "5斤装 5斤装")."""
    title, sku = product_title.strip(), sku_name.strip()
    if not sku or sku in title:
        return title
    return f"{title} {sku}".strip()
