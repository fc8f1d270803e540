"""/category/: the market's category tree (roots and the leaves its products are in)."""

from __future__ import annotations

from typing import Any

from tools.sandbox.keepa.catalog import KINDS, ROOT_NAMES, Catalog


def category(catalog: Catalog, cat_id: int) -> dict[str, Any] | None:
    """Keepa's category object, or None for an id the market does not have."""
    for kind in KINDS:
        if cat_id == kind[1]:
            children = sorted({leaf for k in KINDS if k[1] == cat_id for leaf, _ in k[2]})
            return {
                "domainId": 1,
                "catId": cat_id,
                "name": ROOT_NAMES[cat_id],
                "contextFreeName": ROOT_NAMES[cat_id],
                "children": children,
                "parent": 0,
                "highestRank": 10_000_000,
                "productCount": int((catalog.root() == cat_id).sum()),
                "isBrowseNode": True,
            }
        for leaf, name in kind[2]:
            if leaf == cat_id:
                return {
                    "domainId": 1,
                    "catId": leaf,
                    "name": name,
                    "contextFreeName": name,
                    "children": [],
                    "parent": kind[1],
                    "highestRank": 5_000_000,
                    "productCount": 0,
                    "isBrowseNode": True,
                }
    return None
