"""The what-if simulator (``tuangou simulate``, the operator's 试运行 page): an agent-based
community runs a proposed team-buy campaign against the real engine in a sandbox copy of
the database, over a grid of settings and repeated seeds (see docs/ARCHITECTURE.md, "The
what-if simulator").

It is an entry point like ``demo.py``, not a domain: it drives many domains' services, points
its process's engine and clock at a sandbox, and runs their worker jobs. No domain imports
it. Its one table (``simulations``: the operator's stored runs) is its own.
"""
