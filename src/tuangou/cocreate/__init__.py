"""Co-creation (共创 / C2M): members propose products, vote and pledge; a proposal that
reaches its community's threshold becomes a pre-sale wave, its voters told first."""
