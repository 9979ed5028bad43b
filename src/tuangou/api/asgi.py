"""ASGI entry for multi-process serving (``tuangou serve --workers N``)."""

from tuangou.api.app import create_app
from tuangou.core import logs
from tuangou.core.config import get_settings

logs.configure(get_settings().log_format)
app = create_app()
