"""Deals: analytics from Keepa products, the money math, and search over the deals table."""
