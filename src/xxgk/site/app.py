"""The ASGI app: the units' pages (``/u/<token>``), the office's (``/office``), static assets.

Every page is rendered on the server (Jinja2); the little JavaScript (drag-and-drop upload,
the live register) is shipped in the package.  Every state change is a POST carrying a CSRF
token; every response carries nosniff, a ``'self'`` Content-Security-Policy and no Referer
(a unit's link must not leak through it).  Blocking work goes through `Service.run`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from xxgk.site import office_links, office_pages, office_tools, security, unit_pages
from xxgk.site.http import HERE, MB, SecurityHeaders, http_error, server_error, templates
from xxgk.site.service import Service

SIGN_IN_LIMIT = 5  # wrong passwords from one address in 5 minutes


@dataclass(frozen=True)
class Settings:
    base_url: str = "http://127.0.0.1:8000"
    max_upload: int = 20 * MB
    secure_cookies: bool = False
    uploads_per_hour: int = 30  # a unit's own uploads (the office's for it are not counted)
    bytes_per_day: int = 200 * MB  # likewise, in any 24 hours
    keep_refused: int = 20  # a unit's refused files kept; older ones are pruned (the rows stay)
    uploads_in_flight: int = 4  # upload bodies in memory at once; more wait their turn


def create_app(service: Service, settings: Settings | None = None) -> ASGIApp:
    """The site for ``service`` (whose store is open); the caller closes the service and the store."""
    routes = [*unit_pages.ROUTES, *office_pages.ROUTES, *office_links.ROUTES, *office_tools.ROUTES,
              Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: server_error})
    app.state.service = service
    app.state.settings = settings or Settings()
    app.state.templates = templates()
    app.state.secret = service.store.meta("secret") or ""
    app.state.sign_in_brake = security.Brake(limit=SIGN_IN_LIMIT, window=300)
    app.state.token_brake = security.Brake(limit=20, window=300)
    app.state.upload_slots = asyncio.Semaphore(app.state.settings.uploads_in_flight)
    return SecurityHeaders(app)
