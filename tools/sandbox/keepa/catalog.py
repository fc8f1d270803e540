"""Per-product parameters of the synthetic market, drawn for all products at once (numpy).

Everything a `/deal/` prefilter needs (category, base price, rank band, deal dips, crawl
schedule) is a vector here, so a deal query never has to build 20,000 histories; a product's
full history is generated on demand from its row (see series.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOOKS_ROOT = 283155
# kind -> (name, root category, leaf categories, binding, share)
KINDS: list[tuple[str, int, list[tuple[int, str]], str, float]] = [
    ("textbook", BOOKS_ROOT, [(465600, "Education & Teaching"), (8975347011, "Textbooks")],
     "Hardcover", 0.32),
    ("exam_prep", BOOKS_ROOT, [(4992, "Test Preparation")], "Paperback", 0.10),
    ("fiction", BOOKS_ROOT, [(17, "Literature & Fiction")], "Paperback", 0.22),
    ("nonfiction", BOOKS_ROOT, [(9, "History"), (3, "Business & Money")], "Paperback", 0.21),
    ("toys", 165793011, [(166220011, "Puzzles")], "Toy", 0.05),
    ("electronics", 172282, [(281407, "Accessories & Supplies")], "Electronics", 0.04),
    ("home", 1055398, [(1063498, "Home Décor")], "Kitchen", 0.04),
    ("beauty", 3760911, [(11058281, "Skin Care")], "Misc.", 0.02),
]
ROOT_NAMES = {BOOKS_ROOT: "Books", 165793011: "Toys & Games", 172282: "Electronics",
              1055398: "Home & Kitchen", 3760911: "Beauty & Personal Care"}
KIND_NAMES = [k[0] for k in KINDS]
BOOK_KINDS = frozenset(i for i, k in enumerate(KINDS) if k[1] == BOOKS_ROOT)

# sales-rate multiplier by month (Jan..Dec) per kind: textbooks peak Aug/Sep and January,
# trough around October; exam prep in spring; fiction and toys in December.
SEASON = np.array([
    [2.6, 1.2, 0.6, 0.5, 0.5, 0.5, 0.7, 2.8, 3.2, 0.25, 0.4, 0.8],
    [1.3, 1.3, 1.6, 1.6, 1.3, 0.8, 0.7, 0.8, 0.9, 0.8, 0.7, 0.6],
    [1.0, 0.9, 0.9, 0.9, 1.0, 1.1, 1.1, 1.0, 0.9, 0.9, 1.1, 1.6],
    [1.1, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.3],
    [0.7, 0.6, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8, 0.9, 1.1, 1.8, 2.6],
    [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 1.4, 1.6],
    [1.0, 1.0, 1.0, 1.0, 1.1, 1.1, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2],
    [1.0, 1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.3],
])
# used-price multiplier by month (scarce stock in peak season lifts used textbook prices)
PRICE_SEASON = np.where(SEASON > 1.5, 1.15, np.where(SEASON < 0.5, 0.9, 1.0))

WORDS = ["Calculus", "Biology", "Chemistry", "Psychology", "Economics", "Statistics",
         "Physics", "Accounting", "Nursing", "Anatomy", "Marketing", "Sociology", "Algebra",
         "Philosophy", "History", "Law", "Finance", "Programming", "Ethics", "Geology"]
FICTION = ["The Silent", "Midnight", "Lost", "River", "Garden", "Shadow", "Winter", "Glass",
           "Crown", "Harbor", "Ember", "Orchard", "Lantern", "Northern", "Hidden"]
NOUNS = ["House", "Road", "Secret", "Daughter", "Storm", "Light", "Island", "Promise"]
PRODUCTS = {"toys": "Puzzle 1000 Pieces", "electronics": "USB-C Charging Cable",
            "home": "Ceramic Vase", "beauty": "Hydrating Face Serum"}
# deep mispricings: share of products that get them, their depth (fraction off), length (days)
DEEP_SHARE = 0.25
DEEP_DEPTH = (0.6, 0.85)
DEEP_LEN_DAYS = (3.0, 10.0)
AUTHORS = ["Smith", "Garcia", "Chen", "Johnson", "Patel", "Nguyen", "Miller", "Okafor",
           "Rossi", "Kowalski", "Haddad", "Larsen"]


def _isbn10(digits: np.ndarray) -> str:
    d = [int(x) for x in digits]
    check = (11 - sum((10 - i) * v for i, v in enumerate(d)) % 11) % 11
    return "".join(map(str, d)) + ("X" if check == 10 else str(check))


def ordinal(n: int) -> str:
    """2nd, 3rd, 11th, 12th, 13th, 21st: as a book's edition reads."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass
class Catalog:
    """Vectors of length n; row i is product i."""

    n: int
    seed: int
    asins: list[str]
    kind: np.ndarray  # int index into KINDS
    leaf: np.ndarray  # index into the kind's leaf list
    base_used: np.ndarray  # cents
    new_mult: np.ndarray
    has_amazon: np.ndarray  # bool
    list_price: np.ndarray  # cents
    velocity: np.ndarray  # mean sales / day before seasonality
    rank_low: np.ndarray
    rank_high: np.ndarray
    used_count: np.ndarray  # typical used offer count
    dip_period: np.ndarray  # days between deal dips (inf = never)
    dip_phase: np.ndarray  # days
    dip_len: np.ndarray  # days
    dip_depth: np.ndarray  # fraction off
    crawl_h: np.ndarray  # Keepa refresh interval in hours
    crawl_phase: np.ndarray  # hours
    weight_g: np.ndarray
    dims_mm: np.ndarray  # (n, 3) length, width, height

    @property
    def index(self) -> dict[str, int]:
        if not hasattr(self, "_index"):
            self._index = {a: i for i, a in enumerate(self.asins)}
        return self._index

    def is_book(self) -> np.ndarray:
        return np.isin(self.kind, list(BOOK_KINDS))

    def root(self) -> np.ndarray:
        return np.array([k[1] for k in KINDS])[self.kind]

    def in_dip(self, day: float | np.ndarray) -> np.ndarray:
        """Whether each product is inside a deal dip at market day `day` (vectorized)."""
        pos = np.mod(day - self.dip_phase, self.dip_period)
        return np.isfinite(self.dip_period) & (pos < self.dip_len)

    def title(self, i: int) -> str:
        """Product i's title (memoized: a seeded generator per call cost ~0.3 ms)."""
        titles: dict[int, str] = self.__dict__.setdefault("_titles", {})
        t = titles.get(i)
        if t is None:
            t = titles[i] = self._title(i)
        return t

    def _title(self, i: int) -> str:
        kind = KIND_NAMES[self.kind[i]]
        r = np.random.default_rng([self.seed, i, 7])
        if kind == "textbook":
            return (f"{WORDS[r.integers(len(WORDS))]}: {WORDS[r.integers(len(WORDS))]} "
                    f"Principles and Applications, {ordinal(int(r.integers(2, 14)))} Edition")
        if kind == "exam_prep":
            exam = ["MCAT", "LSAT", "GRE", "NCLEX-RN", "CPA", "SAT", "GMAT"][r.integers(7)]
            return f"{exam} Prep {2023 + int(r.integers(0, 3))}: Practice Tests and Review"
        if kind in ("fiction", "nonfiction"):
            return f"{FICTION[r.integers(len(FICTION))]} {NOUNS[r.integers(len(NOUNS))]}" + (
                "" if kind == "fiction" else f": A {WORDS[r.integers(len(WORDS))]} Story")
        return f"{PRODUCTS[kind]} Model {int(r.integers(100, 999))}"

    def author(self, i: int) -> str | None:
        if self.kind[i] not in BOOK_KINDS:
            return None
        r = np.random.default_rng([self.seed, i, 8])
        return f"{'ABCDEFGHJKLMNPRSTW'[r.integers(18)]}. {AUTHORS[r.integers(len(AUTHORS))]}"


def _deep_mispricings(seed: int, n: int, period: np.ndarray, length: np.ndarray,
                      depth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Give DEEP_SHARE of products occasional deep mispricings (the deals arbitrage lives on).

    Ordinary dips (25-60 % off) rarely beat the fixed costs of a used book (tax, prep, inbound
    shipping, referral, FBA and closing fees), so with them alone about 1 % of deal-query rows
    were profitable. A minority of listings gets deeply underpriced now and then (a seller
    clearing stock, a wrong edition or condition, a repricer gone wrong) for days at a time:
    with these, a few percent of the rows are profitable at any moment (measured with the
    policy-default money: 3.8-4.1 % of ~4,000 rows at 15,000 products, seed 42, days 0/3/6), mostly
    the higher-priced books and textbooks. Drawn from their own seeded stream, so every other
    parameter of the catalog is unchanged.
    """
    rng = np.random.default_rng([seed, 0xDEE9])
    deep = rng.random(n) < DEEP_SHARE
    period = np.where(deep & ~np.isfinite(period), rng.uniform(12, 60, n), period)
    length = np.where(deep, rng.uniform(*DEEP_LEN_DAYS, n), length)
    depth = np.where(deep, rng.uniform(*DEEP_DEPTH, n), depth)
    return period, length, depth


def build_catalog(n: int, seed: int) -> Catalog:
    """Draw every product's parameters; ~10 ms for 20,000 products."""
    rng = np.random.default_rng([seed, 0xCA7A])
    shares = np.array([k[4] for k in KINDS])
    kind = rng.choice(len(KINDS), size=n, p=shares / shares.sum())
    leaf = rng.integers(0, 2, size=n) % np.array([len(k[2]) for k in KINDS])[kind]
    book = np.isin(kind, list(BOOK_KINDS))
    textbook = kind == 0
    # used prices: textbooks $25-$150, other books $5-$30, other goods $10-$60
    base_used = np.where(textbook, rng.lognormal(np.log(5500), 0.5, n),
                         np.where(book, rng.lognormal(np.log(1300), 0.5, n),
                                  rng.lognormal(np.log(2500), 0.4, n)))
    base_used = np.clip(base_used, 400, 40000).astype(np.int64)
    new_mult = rng.uniform(1.4, 2.6, n)
    has_amazon = rng.random(n) < np.where(book, 0.3, 0.5)
    list_price = (base_used * new_mult * rng.uniform(1.1, 1.5, n)).astype(np.int64)
    velocity = rng.lognormal(np.log(0.15), 1.2, n).clip(0.003, 15)
    rank_low = np.clip(60_000 / (velocity + 0.02) * rng.uniform(0.5, 1.5, n), 50, 3_000_000)
    rank_high = np.clip(rank_low * rng.uniform(4, 15, n), 1000, 8_000_000)
    used_count = np.where(book, rng.integers(2, 40, n), rng.integers(0, 6, n))
    dip_prone = rng.random(n) < 0.45
    dip_period = np.where(dip_prone, rng.uniform(12, 60, n), np.inf)
    dip_phase = rng.uniform(0, 60, n)
    dip_len = rng.uniform(1.0, 5.0, n)
    dip_depth = rng.uniform(0.25, 0.6, n)
    dip_period, dip_len, dip_depth = _deep_mispricings(seed, n, dip_period, dip_len, dip_depth)
    crawl_h = rng.choice([1.0, 2.0, 4.0, 6.0, 12.0, 24.0, 48.0], size=n,
                         p=[0.05, 0.1, 0.2, 0.2, 0.2, 0.15, 0.1])
    crawl_phase = rng.uniform(0, 48, n)
    weight_g = np.where(textbook, rng.integers(600, 2500, n),
                        np.where(book, rng.integers(150, 700, n), rng.integers(50, 3000, n)))
    dims = np.stack([rng.integers(180, 290, n), rng.integers(120, 220, n),
                     rng.integers(10, 60, n)], axis=1)
    asins: list[str] = []
    seen: set[str] = set()
    digits = rng.integers(0, 10, size=(n, 9))
    alnum = rng.integers(0, 36, size=(n, 8))
    chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for i in range(n):
        if book[i]:
            d = digits[i].copy()
            d[0] = 0 if i % 3 else 1
            a = _isbn10(d)
        else:
            a = "B0" + "".join(chars[c] for c in alnum[i])
        while a in seen:  # vanishingly rare; keep ASINs unique and deterministic
            a = a[:-1] + chars[(chars.index(a[-1]) + 1) % 10]
        seen.add(a)
        asins.append(a)
    return Catalog(n=n, seed=seed, asins=asins, kind=kind, leaf=leaf, base_used=base_used,
                   new_mult=new_mult, has_amazon=has_amazon, list_price=list_price,
                   velocity=velocity, rank_low=rank_low, rank_high=rank_high,
                   used_count=used_count, dip_period=dip_period, dip_phase=dip_phase,
                   dip_len=dip_len, dip_depth=dip_depth, crawl_h=crawl_h,
                   crawl_phase=crawl_phase, weight_g=weight_g, dims_mm=dims)
