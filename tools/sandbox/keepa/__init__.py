"""The Keepa sandbox: a seeded synthetic market and an HTTP app with Keepa's token rules."""

from tools.sandbox.keepa.app import create_app
from tools.sandbox.keepa.core import SandboxError
from tools.sandbox.keepa.market import SandboxMarket
from tools.sandbox.keepa.sellers import AMAZON_SELLER

__all__ = ["AMAZON_SELLER", "SandboxError", "SandboxMarket", "create_app"]
