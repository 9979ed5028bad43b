"""Page routers: ``auth`` (log-in, sign-up, language), ``member``, ``leader``, ``operator``."""
