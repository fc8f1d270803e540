"""The pipeline as plain functions (Keepa client + session + clock in, a result out).

Celery tasks in workers/tasks.py are thin shells over these; bench/freshness.py runs the very
same functions in simulated time against the sandbox market.
"""
