"""The people-facing interfaces: the Chainlit chat app and the `arbitrage` CLI."""
