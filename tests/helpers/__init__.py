"""Reusable test helpers (live servers, ...)."""
