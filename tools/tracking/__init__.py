"""The seller's loop after "this is a buy": buy list, purchases, and what the purchases made.

Every function takes the seller's user id and reads or writes only that seller's rows; the
agent tools, the chat actions and the CLI all go through here.

- `buylist`: flag deals to buy; today's price, profit and gating beside the numbers when
  flagged ("got worse since you added it"); clear the ones that are gone.
- `purchases`: units bought (cost, quantity, condition, date, SKU, order number), each with
  the prediction at purchase: List at, Amazon fees, break-even and minimum list price,
  profit and days to sell, under the seller's settings then.
- `csv_io`: purchases out to CSV, costs in from CSV (bounded).
- `fifo`: first-in-first-out matching of sold units to purchased units (pure).
"""

from __future__ import annotations


class TrackingError(ValueError):
    """A buy list or purchase request that cannot be done; the message says what to fix."""
