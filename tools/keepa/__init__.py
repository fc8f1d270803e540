"""Keepa, the real service: its conventions, token costs, the client and the shared budget.

- conventions.py: Keepa time (minutes since 2011) and the csv history slots;
- costs.py: what each call costs (what Keepa charges; what the client reserves beforehand);
- client.py: the async client (and its blocking wrapper) with retries and 429 handling;
- budget.py: the token bucket every process shares through Redis, spend booked by purpose;
- envelope.py, errors.py: the token envelope of every answer, the typed errors;
- parsing.py: validation of the products an answer carries (Keepa-JSON dicts travel through
  the system as they come; consumers read series with tools/deals/series.py);
- factory.py: clients from settings (api.keepa.com, or the sandbox of tools/sandbox/keepa).

Nothing is re-exported here: importing tools.keepa.conventions (the deal analytics, the
sandbox) must not load the client's HTTP and Redis stack.
"""
