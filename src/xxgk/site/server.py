"""How the site is served: uvicorn with the limits a public address needs.

- No proxy header is trusted unless the office names its proxy (``--proxy``): otherwise any
  client (even on 127.0.0.1) could pick the address the brakes count by.
- A connection must finish its request head within `HEADER_SECONDS` and may wait at most
  `IDLE_SECONDS` between requests; a head larger than `MAX_HEAD` is refused (the body's own
  deadline is `xxgk.site.http.read_form`'s).
- The process may hold as many descriptors as the system allows (the soft limit is raised
  to the hard one), and answers 503 past `concurrency` connections rather than failing to
  accept: a crowd of half-open connections does not starve the next request.
"""

from __future__ import annotations

import asyncio
import resource
from pathlib import Path

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_SECONDS = 10.0
IDLE_SECONDS = 5
MAX_HEAD = 16 * 1024
SPARE_DESCRIPTORS = 256  # for the database, the files being read, the worker processes' pipes
MOST_CONNECTIONS = 8192


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on the request head: a client that opens a
    connection (or keeps one after a response) and never completes a request is dropped."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # the head is complete: the request is the app's
            self._disarm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()  # the next request's head, however slowly it trickles in

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(HEADER_SECONDS, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def raise_descriptor_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):  # a hard limit the kernel does not allow: keep the soft one
            pass
    return soft


def concurrency(descriptors: int) -> int:
    """Connections served at once with ``descriptors`` open files allowed (503 beyond)."""
    return max(64, min(descriptors - SPARE_DESCRIPTORS, MOST_CONNECTIONS))


def serve(app: ASGIApp, *, host: str, port: int, certfile: Path | None = None, keyfile: Path | None = None,
          proxy: str | None = None) -> None:
    """Run ``app`` until interrupted; ``proxy``: the address of the one reverse proxy whose
    X-Forwarded-For is believed (None: none is)."""
    uvicorn.run(app, host=host, port=port, ssl_certfile=str(certfile) if certfile else None,
                ssl_keyfile=str(keyfile) if keyfile else None, log_level="warning", access_log=False,
                http=GuardedH11, proxy_headers=proxy is not None, forwarded_allow_ips=proxy or "",
                timeout_keep_alive=IDLE_SECONDS, h11_max_incomplete_event_size=MAX_HEAD,
                limit_concurrency=concurrency(raise_descriptor_limit()), server_header=False)
