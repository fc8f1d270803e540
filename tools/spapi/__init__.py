"""The seller's Amazon data over SP-API: FBA inventory, orders and their items, financial
events, synced per seller into their own rows and resumable from checkpoints.

- plans.py: the operations' usage plans (shared with the sandbox, which enforces them).
- client.py: one GET with the shared per-operation rate limiter, LWA token and retries.
- records.py: SP-API answers -> table rows, bounded at the edge.
- store.py: idempotent writes and owner-scoped reads (the tracking features read here).
- checkpoint.py / sync.py: the streams and their checkpoints.
- factory.py / service.py: route, embedded sandbox, locks: what tasks and the CLI call.

The LWA token provider, rate limiter and credentials are shared with tools/restrictions.
"""
