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
    (
        "textbook",
        BOOKS_ROOT,
        [(465600, "Education & Teaching"), (8975347011, "Textbooks")],
        "Hardcover",
        0.32,
    ),
    ("exam_prep", BOOKS_ROOT, [(4992, "Test Preparation")], "Paperback", 0.10),
    ("fiction", BOOKS_ROOT, [(17, "Literature & Fiction")], "Paperback", 0.22),
    ("nonfiction", BOOKS_ROOT, [(9, "History"), (3, "Business & Money")], "Paperback", 0.21),
    ("toys", 165793011, [(166220011, "Puzzles")], "Toy", 0.05),
    ("electronics", 172282, [(281407, "Accessories & Supplies")], "Electronics", 0.04),
    ("home", 1055398, [(1063498, "Home Décor")], "Kitchen", 0.04),
    ("beauty", 3760911, [(11058281, "Skin Care")], "Misc.", 0.02),
]
ROOT_NAMES = {
    BOOKS_ROOT: "Books",
    165793011: "Toys & Games",
    172282: "Electronics",
    1055398: "Home & Kitchen",
    3760911: "Beauty & Personal Care",
}
KIND_NAMES = [k[0] for k in KINDS]
BOOK_KINDS = frozenset(i for i, k in enumerate(KINDS) if k[1] == BOOKS_ROOT)

# sales-rate multiplier by month (Jan..Dec) per kind: textbooks peak Aug/Sep and January,
# trough around October; exam prep in spring; fiction and toys in December.
SEASON = np.array(
    [
        [2.6, 1.2, 0.6, 0.5, 0.5, 0.5, 0.7, 2.8, 3.2, 0.25, 0.4, 0.8],
        [1.3, 1.3, 1.6, 1.6, 1.3, 0.8, 0.7, 0.8, 0.9, 0.8, 0.7, 0.6],
        [1.0, 0.9, 0.9, 0.9, 1.0, 1.1, 1.1, 1.0, 0.9, 0.9, 1.1, 1.6],
        [1.1, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.3],
        [0.7, 0.6, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8, 0.9, 1.1, 1.8, 2.6],
        [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 1.4, 1.6],
        [1.0, 1.0, 1.0, 1.0, 1.1, 1.1, 1.0, 1.0, 1.0, 1.0, 1.1, 1.2],
        [1.0, 1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.3],
    ]
)
# used-price multiplier by month (scarce stock in peak season lifts used textbook prices)
PRICE_SEASON = np.where(SEASON > 1.5, 1.15, np.where(SEASON < 0.5, 0.9, 1.0))

WORDS = [
    "Calculus",
    "Biology",
    "Chemistry",
    "Psychology",
    "Economics",
    "Statistics",
    "Physics",
    "Accounting",
    "Nursing",
    "Anatomy",
    "Marketing",
    "Sociology",
    "Algebra",
    "Philosophy",
    "History",
    "Law",
    "Finance",
    "Programming",
    "Ethics",
    "Geology",
]
FICTION = [
    "The Silent",
    "Midnight",
    "Lost",
    "River",
    "Garden",
    "Shadow",
    "Winter",
    "Glass",
    "Crown",
    "Harbor",
    "Ember",
    "Orchard",
    "Lantern",
    "Northern",
    "Hidden",
]
NOUNS = ["House", "Road", "Secret", "Daughter", "Storm", "Light", "Island", "Promise"]
PRODUCTS = {
    "toys": "Puzzle 1000 Pieces",
    "electronics": "USB-C Charging Cable",
    "home": "Ceramic Vase",
    "beauty": "Hydrating Face Serum",
}
# deep underpricing episodes (tools/sandbox/calibration, strata arbitrage*): the share of
# eligible books (used price >= DEEP_MIN_CENTS) that get them; the depth is DEEP_DEPTH[0] plus
# an exponential excess of mean DEEP_DEPTH[1], capped at DEEP_DEPTH[2] (most are 45-60 % off,
# a few 80 %); episodes last DEEP_LEN_DAYS (log-uniform) with DEEP_GAP_DAYS between them
DEEP_SHARE = 0.9
DEEP_MIN_CENTS = 3000
DEEP_DEPTH = (0.45, 0.14, 0.85)
DEEP_LEN_DAYS = (15.0, 90.0)
DEEP_GAP_DAYS = (60.0, 150.0)
# the underpricing seller's repricer during an episode: every EP_REPRICE_DAYS (log-uniform)
# on average, or never (EP_STATIC of them)
EP_REPRICE_DAYS = (0.02, 8.0)
EP_REPRICE_MIN = 0.08  # days: ~2 h (each re-price is a price point: they cost memory)
EP_STATIC = 0.65
# scarcity spikes: only expensive copies are listed for weeks (price 2.5-7x the usual); the
# 90-day average then flatters the ordinary price that follows
SPIKE_SHARE = 0.16
SPIKE_MIN_CENTS = 1500
SPIKE_RISE = (1.5, 6.0)  # fraction above the ordinary price
SPIKE_LEN_DAYS = (30.0, 80.0)
SPIKE_PERIOD_DAYS = (150.0, 300.0)
SPIKE_WATCH_DAYS = 75.0  # arbitrage sellers watch a product this long after its spike
FIRST_NAMES = [
    "Mary",
    "James",
    "Linda",
    "Robert",
    "Wei",
    "Priya",
    "Carlos",
    "Anna",
    "David",
    "Fatima",
    "John",
    "Elena",
    "Michael",
    "Sarah",
    "Kenji",
    "Laura",
]
LAST_NAMES = [
    "Smith",
    "Garcia",
    "Chen",
    "Johnson",
    "Patel",
    "Nguyen",
    "Miller",
    "Okafor",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Larsen",
    "Campbell",
    "Stewart",
    "Hewitt",
    "Mankiw",
]
# publishers (Keepa's `manufacturer` of a book): academic ones for textbooks and exam prep,
# trade ones for the rest
ACADEMIC_PUBLISHERS = [
    "Pearson",
    "McGraw-Hill Education",
    "Cengage Learning",
    "Wiley",
    "Elsevier",
    "W. W. Norton & Company",
    "Oxford University Press",
    "Jones & Bartlett Learning",
    "Kaplan Publishing",
]
TRADE_PUBLISHERS = [
    "Penguin Books",
    "HarperCollins",
    "Random House",
    "Simon & Schuster",
    "Macmillan",
    "Scholastic",
]
TEXTBOOK_FORMS = [
    "{s}: Concepts and Connections",
    "{s}: A Modern Approach",
    "{s}: Principles and Practice",
    "Introduction to {s}",
    "Fundamentals of {s}",
    "{a}'s {s}",
    "{s}: An Applied Approach",
    "Essentials of {s}",
]
NONFICTION = [
    "The Long Road Home",
    "A People's History",
    "The Quiet Economy",
    "Deep Work",
    "The Art of Saving",
    "Small Habits",
    "The River Kings",
    "Founding Letters",
]
SUBTITLES = [
    "A Memoir",
    "How Ordinary People Changed History",
    "Lessons from a Life in Business",
    "The Untold Story",
    "A Practical Guide",
]
BOOK_SUBCATEGORIES = [
    1000,
    2,
    3,
    4,
    5,
    9,
    10,
    48,
    173507,
    465600,
    4992,
    8975347011,
    69766,
    4736,
    75,
    227,
    266162,
]


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
    rank_dormant: np.ndarray  # the sales rank it sinks to after a long time without sales
    used_count: np.ndarray  # typical used offer count
    dip_period: np.ndarray  # days between deal dips (inf = never)
    dip_phase: np.ndarray  # days
    dip_len: np.ndarray  # days
    dip_depth: np.ndarray  # fraction off (negative: a scarcity spike, the price that much higher)
    ep_reprice: np.ndarray  # days between the underpricer's re-prices in an episode (inf: never)
    crawl_h: np.ndarray  # Keepa refresh interval in hours
    watch_h: np.ndarray  # ... while arbitrage sellers watch it (inf: never watched)
    crawl_phase: np.ndarray  # hours
    weight_g: np.ndarray
    dims_mm: np.ndarray  # (n, 3) length, width, height
    ranked: np.ndarray  # bool: False = Keepa shows no sales rank for it

    @property
    def index(self) -> dict[str, int]:
        if not hasattr(self, "_index"):
            self._index = {a: i for i, a in enumerate(self.asins)}
        return self._index

    def is_book(self) -> np.ndarray:
        return np.isin(self.kind, list(BOOK_KINDS))

    def root(self) -> np.ndarray:
        roots: np.ndarray = np.array([k[1] for k in KINDS])[self.kind]
        return roots

    def deep(self) -> np.ndarray:
        """Products with deep underpricing episodes (not ordinary dips, not spikes)."""
        is_deep: np.ndarray = np.isfinite(self.dip_period) & (self.dip_depth >= DEEP_DEPTH[0])
        return is_deep

    def watch_windows(
        self, idx: np.ndarray, day: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(start, end) of the watch window of products `idx` holding or preceding market day
        `day`, and of the one after it (market days; nan when never watched). Arbitrage
        sellers watch a deep underpricing episode while it lasts, a scarcity spike until
        SPIKE_WATCH_DAYS after it (while the 90-day average still flatters the price)."""
        period, phase = self.dip_period[idx], self.dip_phase[idx]
        length, depth = self.dip_len[idx], self.dip_depth[idx]
        watched = np.isfinite(self.watch_h[idx]) & np.isfinite(period)
        span = np.where(depth < 0, length + SPIKE_WATCH_DAYS, length)
        safe = np.where(watched, period, 1.0)
        k = np.floor((day - phase) / safe)
        s0 = np.where(watched, phase + k * safe, np.nan)
        return s0, s0 + span, s0 + safe, s0 + safe + span

    def in_dip(self, day: float | np.ndarray) -> np.ndarray:
        """Whether each product is inside a price episode (a dip, or a scarcity spike when
        its depth is negative) at market day `day` (vectorized)."""
        pos = np.mod(day - self.dip_phase, self.dip_period)
        inside: np.ndarray = np.isfinite(self.dip_period) & (pos < self.dip_len)
        return inside

    def below_average(self, day: float | np.ndarray, window: float = 90.0) -> np.ndarray:
        """Whether each product's price can sit well below its `window`-day average at day
        `day`: inside a dip, or within `window` days after a scarcity spike ended."""
        pos = np.mod(day - self.dip_phase, self.dip_period)
        finite = np.isfinite(self.dip_period)
        dip = finite & (self.dip_depth > 0) & (pos < self.dip_len)
        after_spike = (
            finite & (self.dip_depth < 0) & (pos >= self.dip_len) & (pos < self.dip_len + window)
        )
        below: np.ndarray = dip | after_spike
        return below

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
            subject = WORDS[r.integers(len(WORDS))]
            edition = f", {ordinal(int(r.integers(2, 14)))} Edition" if r.random() < 0.8 else ""
            form = TEXTBOOK_FORMS[r.integers(len(TEXTBOOK_FORMS))]
            return form.format(s=subject, a=LAST_NAMES[self._author_ix(i)[1]]) + edition
        if kind == "exam_prep":
            exam = ["MCAT", "LSAT", "GRE", "NCLEX-RN", "CPA", "SAT", "GMAT"][r.integers(7)]
            return f"{exam} Prep {2021 + int(r.integers(0, 5))}: Practice Tests and Review"
        if kind == "fiction":
            return f"{FICTION[r.integers(len(FICTION))]} {NOUNS[r.integers(len(NOUNS))]}"
        if kind == "nonfiction":
            topic = NONFICTION[r.integers(len(NONFICTION))]
            return f"{topic}: {SUBTITLES[r.integers(len(SUBTITLES))]}"
        return f"{PRODUCTS[kind]} Model {int(r.integers(100, 999))}"

    def _author_ix(self, i: int) -> tuple[int, int]:
        r = np.random.default_rng([self.seed, i, 8])
        return int(r.integers(len(FIRST_NAMES))), int(r.integers(len(LAST_NAMES)))

    def publisher(self, i: int) -> str | None:
        """Product i's publisher (its own random stream: adding it moved no other draw)."""
        if self.kind[i] not in BOOK_KINDS:
            return None
        names = (
            ACADEMIC_PUBLISHERS
            if KIND_NAMES[int(self.kind[i])] in ("textbook", "exam_prep")
            else TRADE_PUBLISHERS
        )
        return names[int(np.random.default_rng([self.seed, i, 21]).integers(len(names)))]

    def author(self, i: int) -> str | None:
        if self.kind[i] not in BOOK_KINDS:
            return None
        first, last = self._author_ix(i)
        return f"{FIRST_NAMES[first]} {LAST_NAMES[last]}"

    def categories(self, i: int) -> list[int]:
        """Product i's category ids: its leaf, and for books a few related subject nodes
        (Keepa lists 1-20 per product)."""
        leaf = KINDS[int(self.kind[i])][2][int(self.leaf[i])][0]
        if self.kind[i] not in BOOK_KINDS:
            return [leaf]
        r = np.random.default_rng([self.seed, i, 9])
        extra = r.choice(BOOK_SUBCATEGORIES, size=int(r.integers(0, 7)), replace=False)
        return [leaf, *(int(x) for x in extra if int(x) != leaf)]


def _episodes(
    seed: int,
    n: int,
    period: np.ndarray,
    length: np.ndarray,
    depth: np.ndarray,
    base_used: np.ndarray,
    book: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Give some books long stretches of deep underpricing or of scarcity (the deals arbitrage
    lives on), in place of their ordinary dips; also how often the underpricer re-prices.

    Real arbitrage deals (tools/sandbox/calibration) are mostly long-lived low prices: a used
    copy listed 45-80 % under the usual price that stays there for weeks (the 90-day window
    shows the drop, the week window rarely does), plus ordinary prices after weeks when only
    expensive copies were listed (the 90-day average flatters today's price). Ordinary dips
    (8-35 % off, a few days) never beat the fixed costs of a used book. Drawn from their own
    seeded stream, so the other parameters are unchanged.
    """
    rng = np.random.default_rng([seed, 0xDEE9])
    deep = (rng.random(n) < DEEP_SHARE) & book & (base_used >= DEEP_MIN_CENTS)
    lo, hi = np.log(DEEP_LEN_DAYS[0]), np.log(DEEP_LEN_DAYS[1])
    ep_len = np.exp(rng.uniform(lo, hi, n))
    gap = rng.uniform(*DEEP_GAP_DAYS, n)
    d_lo, d_mean, d_hi = DEEP_DEPTH
    depth = np.where(deep, np.minimum(d_lo + rng.exponential(d_mean, n), d_hi), depth)
    # a seller far under the usual price stays there longer (nobody undercuts it)
    ep_len = ep_len * (1.0 + 2.0 * np.clip(depth - 0.6, 0.0, None))
    length = np.where(deep, ep_len, length)
    period = np.where(deep, ep_len + gap, period)
    lo, hi = np.log(EP_REPRICE_DAYS[0]), np.log(EP_REPRICE_DAYS[1])
    reprice = np.exp(rng.uniform(lo, hi, n))
    # the further under the usual price, the more actively the seller reprices
    reprice = np.maximum(reprice * np.clip(((1.0 - depth) / 0.5) ** 3, 0.1, 1.5), EP_REPRICE_MIN)
    static = rng.random(n) < EP_STATIC * np.clip((0.75 - depth) / 0.3, 0.05, 1.3)
    reprice = np.where(static, np.inf, reprice)
    spike = (rng.random(n) < SPIKE_SHARE) & book & (base_used >= SPIKE_MIN_CENTS) & ~deep
    period = np.where(spike, rng.uniform(*SPIKE_PERIOD_DAYS, n), period)
    length = np.where(spike, rng.uniform(*SPIKE_LEN_DAYS, n), length)
    depth = np.where(spike, -rng.uniform(*SPIKE_RISE, n), depth)
    return period, length, depth, np.where(deep, reprice, np.inf)


def build_catalog(n: int, seed: int) -> Catalog:
    """Draw every product's parameters; ~10 ms for 20,000 products.

    Calibrated against real Keepa answers for used books (tools/sandbox/calibration): most
    used books are cheap ($2-$10) and slow (a sale every few months, rank in the millions),
    textbooks dearer; ranks have a long tail with no cap pile-up and ~7 % of books have no
    rank at all; a few used offers each (median ~6); popular products are re-crawled hourly,
    slow ones every day or two.
    """
    rng = np.random.default_rng([seed, 0xCA7A])
    shares = np.array([k[4] for k in KINDS])
    kind = rng.choice(len(KINDS), size=n, p=shares / shares.sum())
    leaf = rng.integers(0, 2, size=n) % np.array([len(k[2]) for k in KINDS])[kind]
    book = np.isin(kind, list(BOOK_KINDS))
    textbook = (kind == 0) | (kind == 1)
    # used prices: textbooks and exam prep median ~$35, other books ~$5, other goods ~$25
    base_used = np.where(
        textbook,
        rng.lognormal(np.log(3500), 0.8, n),
        np.where(book, rng.lognormal(np.log(430), 0.8, n), rng.lognormal(np.log(2500), 0.4, n)),
    )
    base_used = np.clip(base_used, 150, 40000).astype(np.int64)
    new_mult = rng.uniform(1.4, 2.6, n)
    list_price = (base_used * new_mult * rng.uniform(1.1, 1.5, n)).astype(np.int64)
    # sales per day: most books sell a few times a year; textbooks more often
    velocity = np.where(
        textbook, rng.lognormal(np.log(0.05), 1.3, n), rng.lognormal(np.log(0.012), 1.5, n)
    ).clip(0.0005, 15)
    # the rank a book sinks to without sales (Keepa shows unsold books at 3-15 million);
    # what lifts it from there is its recent sales (series.py)
    rank_dormant = rng.lognormal(np.log(6_000_000), 0.6, n).clip(1_500_000, 30_000_000)
    ranked = ~book | (rng.random(n) >= 0.05)  # ~5 % of books carry no sales rank
    used_count = np.where(
        book, rng.lognormal(np.log(7), 0.85, n).clip(1, 60).astype(np.int64), rng.integers(0, 6, n)
    )
    dip_prone = rng.random(n) < 0.75
    dip_period = np.where(dip_prone, rng.uniform(10, 45, n), np.inf)
    dip_phase = rng.uniform(0, 240, n)
    dip_len = rng.uniform(1.0, 5.0, n)
    dip_depth = rng.uniform(0.08, 0.42, n)
    dip_period, dip_len, dip_depth, ep_reprice = _episodes(
        seed, n, dip_period, dip_len, dip_depth, base_used, book
    )
    deep = np.isfinite(dip_period) & ((dip_depth >= DEEP_DEPTH[0]) | (dip_depth < 0))
    # sellers who underprice for weeks are mostly alone on the listing, rarely next to Amazon
    used_count = np.where(
        deep & book,
        np.maximum(1, (used_count * np.clip(1.3 - dip_depth, 0.3, 0.8)).astype(np.int64)),
        used_count,
    )
    # Amazon sells new copies of 60 % of books; the deeper a used copy is underpriced, the
    # less likely Amazon is on the listing (real arbitrage deals: 32 %; 67 %+ under: 17 %)
    p_amazon = np.where(
        deep & (dip_depth > 0),
        np.clip(1.8 - 2.2 * dip_depth, 0.03, 0.7),
        np.where(deep, 0.2, np.where(book, 0.6, 0.5)),
    )
    has_amazon = rng.random(n) < p_amazon
    velocity = np.where(deep, velocity * 0.6, velocity)  # they sell slowly: that is why
    fast = (velocity > 0.02) & ~deep  # Keepa refreshes what sells (and what is watched)
    crawl_h = np.where(
        fast,
        rng.choice([2.0, 4.0, 6.0, 12.0, 24.0], size=n, p=[0.3, 0.3, 0.25, 0.1, 0.05]),
        rng.choice([6.0, 12.0, 24.0, 48.0], size=n, p=[0.2, 0.3, 0.3, 0.2]),
    )
    # while arbitrage sellers watch a product (its episodes: catalog.watch_windows), Keepa
    # re-crawls it every few hours: it refreshes what its users look at
    watch_h = np.where(
        deep,
        rng.choice([2.0, 4.0, 8.0, 12.0, 18.0], size=n, p=[0.2, 0.25, 0.2, 0.2, 0.15]),
        np.inf,
    )
    crawl_phase = rng.uniform(0, 48, n)
    weight_g = np.where(
        textbook,
        rng.integers(600, 2500, n),
        np.where(book, rng.integers(150, 700, n), rng.integers(50, 3000, n)),
    )
    dims = np.stack(
        [rng.integers(180, 290, n), rng.integers(120, 220, n), rng.integers(10, 60, n)], axis=1
    )
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
    return Catalog(
        n=n,
        seed=seed,
        asins=asins,
        kind=kind,
        leaf=leaf,
        base_used=base_used,
        new_mult=new_mult,
        has_amazon=has_amazon,
        list_price=list_price,
        velocity=velocity,
        rank_dormant=rank_dormant,
        used_count=used_count,
        dip_period=dip_period,
        dip_phase=dip_phase,
        dip_len=dip_len,
        dip_depth=dip_depth,
        ep_reprice=ep_reprice,
        crawl_h=crawl_h,
        watch_h=watch_h,
        crawl_phase=crawl_phase,
        weight_g=weight_g,
        dims_mm=dims,
        ranked=ranked,
    )
