"""The simulated world: local stand-ins for the external services, speaking their protocols.

The real clients (tools/keepa, tools/restrictions) run unchanged against these apps, in-process
through httpx.ASGITransport (the embedded default, tests) or served over HTTP
(`arbitrage sandbox serve`). Only the clients' factories (tools/keepa/factory.py,
tools/restrictions/service.py), the sandbox CLI commands, benches and tests import them.

- `keepa/`: a seeded synthetic Keepa market (`SandboxMarket`) and its Keepa-compatible app,
  with Keepa's token bucket; what each request costs is in tools/keepa/costs.py.
- `spapi/`: Amazon SP-API and Login with Amazon (listing restrictions today; FBA inventory,
  orders and finances belong here too, as sibling modules of one SP-API app).
- `time_shift.py`: moving the world's clock forward by hand (`arbitrage sandbox advance`),
  for every process of a deployment at once.
- `calibration/`: statistics of the real Keepa used-book market the simulated one is held to
  (bench/market_realism.py compares them).

One world, one time: every simulated service takes the same `Clock` (wall time by default, a
ScaledClock to run faster than real time, a SimClock that simulations advance), so what the
Keepa market shows and what SP-API reports stay on the same timeline.
"""
