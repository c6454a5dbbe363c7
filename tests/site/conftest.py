"""The site's fixtures: a served three-unit cycle, and returns that pass or fail for its units."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from site_books import ROSTER, Site, open_site, return_bytes


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = open_site(tmp_path / "data")
    yield s
    s.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("returns")
    return {
        "good": return_bytes(folder, ROSTER[0]),
        "bad": return_bytes(folder, ROSTER[0], faulty=True),
        "good2": return_bytes(folder, ROSTER[1], seed=1),
    }
