"""Celery workers that keep the deals database fresh within the Keepa token budget."""
