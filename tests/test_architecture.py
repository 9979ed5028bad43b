"""The walls between the domains, as import-linter checks them (the contracts in
pyproject.toml): every domain package is inside them, and they hold.

A new package under ``src/tuangou/`` is a domain unless it is the core, an entry point or the
migrations; until it is added to the contracts, the first test fails.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import tuangou

PACKAGE = Path(tuangou.__file__).parent
PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"
# The what-if simulator is an entry point (it drives the domains' services and their jobs, as
# demo.py does, in a process of its own); no domain may import it (pyproject.toml).
NOT_DOMAINS = {"core", "api", "web", "migrations", "simulate"}


def domains() -> set[str]:
    return {
        f"tuangou.{p.name}"
        for p in PACKAGE.iterdir()
        if (p / "__init__.py").exists() and p.name not in NOT_DOMAINS
    }


def contract(name: str) -> dict[str, Any]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    found = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == name]
    assert len(found) == 1, f"no contract named {name!r}"
    return dict(found[0])


def test_every_domain_is_inside_the_walls() -> None:
    walls = contract("Domains reach each other only through their service (and schemas, errors)")
    assert set(walls["modules"]) == domains()
    core = contract("The core knows no domain and no entry point")
    assert domains() <= set(core["forbidden_modules"])
    entry = contract("No domain imports the web pages, the worker or the composition root")
    assert set(entry["source_modules"]) == domains()
    read_model = contract(
        "analytics is the read model: it reads tables by name, imports no domain's models, "
        "and no domain imports it"
    )
    assert set(read_model["source_modules"]) == domains() - {"tuangou.analytics"}


def test_every_domain_offers_a_service() -> None:
    for name in domains():
        folder = PACKAGE / name.removeprefix("tuangou.")
        assert (folder / "service.py").exists() or (folder / "service" / "__init__.py").exists(), (
            f"{name} has no service module: other domains would have no way in"
        )


def test_the_contracts_hold() -> None:
    # In a process of its own: import-linter configures logging, which would silence the
    # loggers of the tests that run after this one in this process.
    check = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(PYPROJECT)!r}, no_cache=True, no_logo=True))"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
