"""ASGI entry for multi-process serving (``tuangou serve --workers N``)."""

from tuangou.api.app import create_app

app = create_app()
