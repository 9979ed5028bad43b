"""tuangou: open, self-hosted social group-buying."""

__version__ = "0.1.0"
