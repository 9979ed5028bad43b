"""``python -m tuangou.simulate RUN_ID``: run one stored simulation (the worker's child)."""

from __future__ import annotations

import logging
import sys

from tuangou import wiring
from tuangou.simulate import service


def main(argv: list[str]) -> int:
    wiring.compose()
    logging.basicConfig(level=logging.INFO)
    status = service.execute(int(argv[0]))
    return 0 if status == "done" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
