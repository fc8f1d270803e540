"""Async Keepa client (httpx) for api.keepa.com and the sandbox through one code path.

The keepa package's own client hard-codes its host, so we do the HTTP here and use the package
for parsing and models. Every call: estimate cost -> reserve from the shared budget -> request
(timeouts and 5xx retried with tenacity) -> settle the budget with the response envelope.
A 429 resyncs the budget to Keepa's balance and waits for the refill; it never spins.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import orjson
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from tools import shutdown
from tools.clock import Clock, SystemClock
from tools.keepa import costs
from tools.keepa.budget import KeepaPurpose, TokenBudget
from tools.keepa.envelope import TokenEnvelope
from tools.keepa.errors import (
    KeepaError,
    KeepaServerError,
    KeepaTokensExhausted,
    KeepaTransportError,
    MalformedProduct,
    error_for_status,
)
from tools.keepa.parsing import validate_products
from tools.metrics import KEEPA_429, KEEPA_REQUESTS, status_class

log = logging.getLogger(__name__)
_T = TypeVar("_T")

MAX_ASINS = 100
RETRYABLE = (httpx.TimeoutException, httpx.TransportError, KeepaServerError)


@dataclass
class KeepaResult:
    """A decoded Keepa answer plus its envelope."""

    body: dict[str, Any]
    envelope: TokenEnvelope | None
    estimated: int = 0

    @property
    def tokens_consumed(self) -> int:
        return self.envelope.tokens_consumed if self.envelope else 0


@dataclass
class ProductsResult:
    """Products that validated, plus one typed error per unusable product (batch never fails)."""

    products: list[dict[str, Any]]
    errors: list[MalformedProduct] = field(default_factory=list)
    envelope: TokenEnvelope | None = None
    tokens_consumed: int = 0
    missing: list[str] = field(default_factory=list)  # asked for, not returned

    def by_asin(self) -> dict[str, dict[str, Any]]:
        return {p["asin"]: p for p in self.products}


def _bool(v: bool) -> int:
    return 1 if v else 0


class KeepaClient:
    """Async client. Use `make_keepa_client(settings)` rather than building one by hand."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = "https://api.keepa.com",
        domain_id: int = 1,
        budget: TokenBudget | None = None,
        purpose: KeepaPurpose = "processor",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 60.0,
        clock: Clock | None = None,
        max_attempts: int = 4,
        max_429: int = 6,
        wait_deadline_s: float | None = None,
        backoff_s: float = 0.5,
        validate_model: bool = False,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.domain_id = domain_id
        self.budget = budget
        self.purpose = purpose
        self.clock: Clock = clock or (budget.clock if budget else SystemClock())
        self.max_attempts = max_attempts
        self.max_429 = max_429
        self.wait_deadline_s = wait_deadline_s
        self.backoff_s = backoff_s
        self.validate_model = validate_model  # also run keepa's pydantic model (~1.5 ms each)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout_s, connect=10.0),
        )
        self.last_envelope: TokenEnvelope | None = None

    async def __aenter__(self) -> KeepaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- transport ----------------------------------------------------------------------

    async def _send_once(self, path: str, params: dict[str, Any]) -> KeepaResult:
        endpoint = path.strip("/") or "root"
        try:
            resp = await self._http.get(path, params={"key": self.api_key, **params})
        except (httpx.TimeoutException, httpx.TransportError):
            KEEPA_REQUESTS.labels(endpoint, "transport").inc()
            raise
        KEEPA_REQUESTS.labels(endpoint, status_class(resp.status_code)).inc()
        try:  # orjson: a 100-product answer is ~6 MB, stdlib json takes 2-3x longer
            body = orjson.loads(resp.content)
        except (orjson.JSONDecodeError, ValueError):
            body = {}
        if not isinstance(body, dict):
            body = {}
        env = TokenEnvelope.from_body(body)
        if env:
            self.last_envelope = env
        if resp.status_code >= 400:
            raise error_for_status(resp.status_code, body, path)
        return KeepaResult(body=body, envelope=env)

    async def _send(self, path: str, params: dict[str, Any]) -> KeepaResult:
        """One logical request with retries for timeouts, connection errors and 5xx."""
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(RETRYABLE),
                stop=stop_after_attempt(self.max_attempts),
                wait=wait_exponential(multiplier=self.backoff_s, max=30),
                sleep=self.clock.asleep,
                reraise=True,
                before_sleep=lambda rs: log.warning(
                    "keepa %s attempt %d failed (%s); retrying",
                    path,
                    rs.attempt_number,
                    rs.outcome.exception() if rs.outcome else "?",
                ),
            ):
                with attempt:
                    return await self._send_once(path, params)
        except (httpx.TimeoutException, httpx.TransportError) as err:
            raise KeepaTransportError(
                f"Keepa {path} unreachable after {self.max_attempts} attempts: {err!r}"
            ) from err
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(
        self, path: str, params: dict[str, Any], *, estimate: int, purpose: KeepaPurpose | None
    ) -> KeepaResult:
        """Budgeted request: reserve, send, settle; 429 -> resync and wait, bounded."""
        purpose = purpose or self.purpose
        if self.budget is not None and not await asyncio.to_thread(self.budget.is_synced):
            await self.token_status()
        for attempt in range(self.max_429 + 1):
            res = None
            if self.budget is not None:
                res = await self.budget.aacquire(estimate, purpose, self.wait_deadline_s)
            try:
                result = await self._send(path, params)
            except KeepaError as err:
                env = TokenEnvelope.from_body(err.envelope) if err.envelope else None
                if self.budget is not None and res is not None:
                    consumed = env.tokens_consumed if env else 0
                    await asyncio.to_thread(
                        self.budget.settle,
                        env,
                        estimate,
                        consumed,
                        purpose=purpose,
                        synced=res.synced,
                        reservation=res.id,
                    )
                if err.status != 429:
                    raise
                KEEPA_429.labels(purpose).inc()
                if attempt >= self.max_429:
                    raise KeepaTokensExhausted(
                        f"Keepa kept answering 429 NOT_ENOUGH_TOKEN after {attempt + 1} tries",
                        status=429,
                        envelope=err.envelope,
                    ) from err
                log.warning(
                    "keepa 429 on %s (%s): tokensLeft %s; waiting for the refill",
                    path,
                    purpose,
                    env.tokens_left if env else "?",
                )
                if self.budget is None or env is None:
                    # with an envelope the budget now knows the balance and its acquire()
                    # waits; without one (a proxy's bare 429) it would grant again at once
                    await self.clock.asleep(
                        (env.refill_in_ms / 1000 + 0.1) if env else min(60.0, 5.0 * 2**attempt)
                    )
                continue
            except BaseException:
                # cancelled (a stopped chat turn) or a bug: release the reservation now, or
                # it would hold its tokens out of the shared balance until it expires
                if self.budget is not None and res is not None:
                    self.budget.settle(
                        None, estimate, 0, purpose=purpose, synced=res.synced, reservation=res.id
                    )
                raise
            if self.budget is not None and res is not None:
                await asyncio.to_thread(
                    self.budget.settle,
                    result.envelope,
                    estimate,
                    result.tokens_consumed,
                    purpose=purpose,
                    synced=res.synced,
                    reservation=res.id,
                )
            result.estimated = estimate
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- endpoints ----------------------------------------------------------------------

    async def token_status(self) -> TokenEnvelope:
        """Free `/token/` call; also syncs the shared budget."""
        result = await self._send("/token/", {})
        if result.envelope is None:
            raise KeepaError("Keepa /token/ answer has no token envelope")
        if self.budget is not None:
            await asyncio.to_thread(self.budget.sync, result.envelope)
        return result.envelope

    async def products(
        self,
        asins: Sequence[str] | str,
        *,
        stats: int | None = 365,
        history: bool = True,
        offers: int | None = None,
        buybox: bool = False,
        rating: bool = False,
        update: int | None = None,
        days: int | None = None,
        purpose: KeepaPurpose | None = None,
        expected_offers: int | None = None,
    ) -> ProductsResult:
        """`/product/` for up to 100 ASINs; bad products come back as errors, not exceptions."""
        asin_list = [asins] if isinstance(asins, str) else list(dict.fromkeys(asins))
        asin_list = [a.strip().upper() for a in asin_list if a and a.strip()]
        if not asin_list:
            return ProductsResult(products=[])
        if len(asin_list) > MAX_ASINS:
            raise ValueError(f"at most {MAX_ASINS} ASINs per /product/ call, got {len(asin_list)}")
        if offers is not None and not 20 <= offers <= 100:
            raise ValueError("offers must be between 20 and 100")
        params: dict[str, Any] = {
            "domain": self.domain_id,
            "asin": ",".join(asin_list),
            "history": _bool(history),
        }
        if stats:
            params["stats"] = stats
        if offers:
            params["offers"] = offers
        if buybox:
            params["buybox"] = 1
        if rating:
            params["rating"] = 1
        if update is not None:
            params["update"] = update
        if days is not None:
            params["days"] = days
        est = costs.estimate_product_cost(
            len(asin_list),
            offers=offers,
            buybox=buybox,
            rating=rating,
            expected_offers=expected_offers,
        )
        result = await self._call("/product/", params, estimate=est, purpose=purpose)
        raw = result.body.get("products") or []
        good, errors = validate_products(
            raw, require_history=history, require_stats=bool(stats), model=self.validate_model
        )
        seen = {p.get("asin") for p in raw if isinstance(p, dict)}
        return ProductsResult(
            products=good,
            errors=errors,
            envelope=result.envelope,
            tokens_consumed=result.tokens_consumed,
            missing=[a for a in asin_list if a not in seen],
        )

    async def deals(
        self,
        selection: dict[str, Any],
        *,
        purpose: KeepaPurpose | None = None,
    ) -> KeepaResult:
        """`/deal/` page (up to 150 deals, 5 tokens); body['deals']['dr'] holds them."""
        sel = {"domainId": self.domain_id, "page": 0, **selection}
        return await self._call(
            "/deal/",
            {"selection": json.dumps(sel)},
            estimate=costs.estimate_deal_cost(),
            purpose=purpose,
        )

    async def query(
        self,
        selection: dict[str, Any],
        *,
        purpose: KeepaPurpose | None = None,
    ) -> KeepaResult:
        """Product finder `/query/`; body['asinList'] and body['totalResults']."""
        per_page = int(selection.get("perPage", 50))
        return await self._call(
            "/query/",
            {"domain": self.domain_id, "selection": json.dumps(selection)},
            estimate=costs.estimate_finder_cost(per_page),
            purpose=purpose,
        )

    async def seller(
        self,
        seller_ids: Iterable[str] | str,
        *,
        storefront: bool = False,
        purpose: KeepaPurpose | None = None,
    ) -> dict[str, dict[str, Any]]:
        """`/seller/` objects keyed by seller id (1 token each)."""
        ids = [seller_ids] if isinstance(seller_ids, str) else list(dict.fromkeys(seller_ids))
        if not ids:
            return {}
        params: dict[str, Any] = {"domain": self.domain_id, "seller": ",".join(ids)}
        if storefront:
            params["storefront"] = 1
        result = await self._call(
            "/seller/",
            params,
            estimate=costs.estimate_seller_cost(len(ids), storefront),
            purpose=purpose,
        )
        return dict(result.body.get("sellers") or {})

    async def category(
        self,
        ids: Iterable[int] | int,
        *,
        parents: bool = False,
        purpose: KeepaPurpose | None = None,
    ) -> dict[str, dict[str, Any]]:
        """`/category/` objects keyed by category id (as strings, like Keepa's JSON)."""
        id_list = [ids] if isinstance(ids, int) else list(ids)
        params = {
            "domain": self.domain_id,
            "category": ",".join(str(i) for i in id_list),
            "parents": _bool(parents),
        }
        result = await self._call(
            "/category/",
            params,
            estimate=costs.estimate_category_cost(len(id_list)),
            purpose=purpose,
        )
        return dict(result.body.get("categories") or {})


class SyncKeepaClient:
    """Blocking wrapper for Celery workers and the CLI: runs the async client on its own loop.

    A call honours the process's stop request (tools/shutdown.py): a stopping worker cancels
    it, wherever it is (waiting for tokens, backing off, inside the HTTP request), its
    reservation is given back, and `Stopped` tells the caller the work is unfinished.
    """

    STOP_POLL_S = 0.2

    def __init__(self, client: KeepaClient) -> None:
        self._client = client
        self._loop = asyncio.new_event_loop()

    @property
    def client(self) -> KeepaClient:
        return self._client

    @property
    def budget(self) -> TokenBudget | None:
        return self._client.budget

    def _run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        if shutdown.requested():
            coro.close()
            raise shutdown.Stopped("not started: the process is stopping")
        return self._loop.run_until_complete(self._until_stopped(coro))

    async def _until_stopped(self, coro: Coroutine[Any, Any, _T]) -> _T:
        call = asyncio.ensure_future(coro)
        while True:
            done, _ = await asyncio.wait({call}, timeout=self.STOP_POLL_S)
            if done:
                return call.result()
            if shutdown.requested():
                call.cancel()
                try:
                    return await call  # it may have finished meanwhile
                except asyncio.CancelledError:
                    raise shutdown.Stopped(
                        "Keepa call interrupted: the process is stopping"
                    ) from None

    def token_status(self) -> TokenEnvelope:
        return self._run(self._client.token_status())

    def products(self, asins: Sequence[str] | str, **kwargs: Any) -> ProductsResult:
        return self._run(self._client.products(asins, **kwargs))

    def deals(self, selection: dict[str, Any], **kwargs: Any) -> KeepaResult:
        return self._run(self._client.deals(selection, **kwargs))

    def query(self, selection: dict[str, Any], **kwargs: Any) -> KeepaResult:
        return self._run(self._client.query(selection, **kwargs))

    def seller(self, seller_ids: Iterable[str] | str, **kwargs: Any) -> dict[str, Any]:
        return self._run(self._client.seller(seller_ids, **kwargs))

    def category(self, ids: Iterable[int] | int, **kwargs: Any) -> dict[str, Any]:
        return self._run(self._client.category(ids, **kwargs))

    def close(self) -> None:
        if not self._loop.is_closed():
            self._run(self._client.aclose())
            self._loop.close()

    def __enter__(self) -> SyncKeepaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
