"""The one error of the alerts capability, in a module of its own so the CLI can name it
without importing the search machinery."""


class AlertError(ValueError):
    """A request about alerts that cannot be done; the message says why."""
