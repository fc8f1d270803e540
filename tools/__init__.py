"""Capability layer: settings, database, Keepa, deals, restrictions, LLM factory.

Plain Python APIs only; nothing here imports LangGraph, Celery or Chainlit.
"""
