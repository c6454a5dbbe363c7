"""A served cycle for the site's tests: a data directory with a three-unit roster, returns that
pass or fail for any of its units, and an HTTP client signed in (or not) as the office."""

from __future__ import annotations

import atexit
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from starlette.testclient import TestClient

from merge_books import valid_inputs, write_return
from xxgk.cycle.roster import Unit
from xxgk.forms.builtin import for_year
from xxgk.forms.model import Form
from xxgk.site.app import Settings, create_app
from xxgk.site.datadir import Opened, open_data, write_links
from xxgk.site.service import Readers, Service

YEAR = 2025
REGION = "沙坡头区"
ROSTER = [
    Unit("640502001", "沙坡头区机关事务局"),
    Unit("640502002", "沙坡头区人民政府办公室"),
    Unit("640502003", "沙坡头区发展和改革局"),
]


def form() -> Form:
    return for_year(YEAR)


@cache
def _inputs(seed: int) -> dict[str, Decimal]:
    return valid_inputs(form(), seed)


def return_bytes(folder: Path, unit: Unit, *, faulty: bool = False, seed: int = 0, name: str | None = None) -> Path:
    """A return of ``unit``: valid, or (``faulty``) with a negative count, which is an error."""
    inputs = dict(_inputs(seed))
    if faulty:
        inputs[form().inputs[3].key] = Decimal(-5)
    path = folder / (name or f"{unit.code}_{unit.name}{'_有误' if faulty else ''}_{seed}.xlsx")
    write_return(path, form(), inputs, code=unit.code, name=unit.name, year=YEAR, date="2026-01-20")
    return path


@dataclass
class Site:
    client: TestClient
    service: Service
    opened: Opened
    links: dict[str, str]  # unit code -> /u/<token>
    data: Path

    def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get(path).text)
        assert found, path
        return found.group(1)

    def upload(self, code: str, path: Path, *, client: TestClient | None = None) -> object:
        link = self.links[code]
        token = self.csrf(link)
        with path.open("rb") as fh:
            return (client or self.client).post(f"{link}/upload", data={"csrf": token},
                                                files={"file": (path.name, fh, "application/octet-stream")},
                                                headers={"Accept": "application/json"}, follow_redirects=False)

    def sign_in(self, client: TestClient | None = None) -> TestClient:
        client = client or self.client
        page = client.get("/office/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token and self.opened.password
        reply = client.post("/office/login", data={"csrf": token.group(1), "password": self.opened.password},
                            follow_redirects=False)
        assert reply.status_code == 303, reply.text
        return client

    def office_csrf(self) -> str:
        return self.csrf("/office")

    def close(self) -> None:
        self.client.close()
        self.service.close()
        self.opened.store.close()


_READERS: list[Readers] = []


def readers() -> Readers:
    """One pool of reading processes for the whole test session (spawning one costs a second)."""
    if not _READERS:
        _READERS.append(Readers(processes=2))
        atexit.register(_READERS[0].close)
    return _READERS[0]


def open_site(data: Path, *, roster: list[Unit] | None = None, previous: Path | None = None,
              **settings: object) -> Site:
    opened = open_data(data, year=YEAR, roster=roster or ROSTER, region=REGION, previous=previous)
    write_links(opened.store, Settings().base_url)
    service = Service(opened.store, opened.form, YEAR, REGION, readers(), previous=opened.previous)
    app = create_app(service, Settings(**settings))  # type: ignore[arg-type]
    by_id = {u.id: u.code for u in opened.store.units()}
    links = {by_id[i]: f"/u/{t}" for i, t in opened.tokens.items()}
    return Site(TestClient(app, raise_server_exceptions=False), service, opened, links, data)
