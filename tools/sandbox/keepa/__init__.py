"""A Keepa-compatible sandbox: seeded synthetic market + HTTP app with Keepa's token rules."""

from tools.sandbox.keepa.app import create_app
from tools.sandbox.keepa.market import AMAZON_SELLER, SandboxError, SandboxMarket

__all__ = ["AMAZON_SELLER", "SandboxError", "SandboxMarket", "create_app"]
