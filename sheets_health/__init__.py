"""sheets-health: customer health scores kept in a shared sheet."""

__version__ = "0.1.0"
