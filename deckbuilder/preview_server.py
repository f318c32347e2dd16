"""The HTTP side of build-deck serve: the live page, its images and /changes, on 127.0.0.1 only.

The standard library's server, one thread per request. The page waits for the next build with a
long poll (GET /changes?since=VERSION answers when the version is another, or after a while), which
needs nothing but fetch() in the page and a condition variable here.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import Problem
from .live_page import LiveState, live_page_html, page_of
from .preview import media_type
from .render.rendered import RenderedCard

HOST = "127.0.0.1"  # never another interface: the cards may be private
POLL_SECONDS = 20  # a long poll answers after this at the latest (the page asks again)
MAX_CHANGED = 100  # card ids /changes lists at most
_IN_USE = {errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE)}
# What the page may do: its own scripts (by nonce), styles, images from here; a card's markup, sanitised
# already, could run nothing even if the sanitiser missed something.
_PAGE_POLICY = ("default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src 'self' data:; "
                "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")  # fmt: skip
_MEDIA_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


class PortInUse(Exception):
    """Another program listens on the port."""

    def __init__(self, port: int):
        super().__init__(f"port {port} is in use")
        self.port = port


class LivePreview:
    """What the page shows, as the build loop updates it (from another thread than the server's)."""

    def __init__(self) -> None:
        self._changes = threading.Condition()
        self.rendered: list[RenderedCard] = []
        self.deck_name = ""
        self.state = LiveState()
        self.page = None  # the page of the first card the last build changed
        self.builds = 0
        self.building = False
        self.closed = False
        self._media: dict[str, Path] | None = None  # packaged name -> file, worked out when first asked
        self._waiting = 0  # pages waiting for the next version (long polls under way)
        self._served = 0  # the last version a page was served with
        self._awaited = False  # a page was waiting when the last version was published

    def build_started(self) -> None:
        with self._changes:
            self.building = True

    def show_cards(self, rendered: list[RenderedCard], deck_name: str, warnings: list[Problem]) -> None:
        """A good build: its cards, with those that differ from the last good build's marked."""
        changed = _changed(self.rendered, rendered) if self.rendered else []
        page = page_of(rendered, changed[0]) if changed else None
        with self._changes:
            self.rendered, self.deck_name, self._media, self.page = rendered, deck_name, None, page
            self._publish(LiveState(self.state.version + 1, tuple(warnings), False, frozenset(changed)))

    def show_problems(self, problems: list[Problem]) -> None:
        """A build with errors: the last good cards stay, with the problems above them."""
        with self._changes:
            self.page = None
            self._publish(LiveState(self.state.version + 1, tuple(problems), True, self.state.changed))

    def let_pages_load(self, timeout: float) -> None:
        """Wait (up to ``timeout`` seconds) until a page waiting for this version has loaded it: the rest
        of a build (writing the package) would otherwise take the processor from the server's thread."""
        with self._changes:
            if self._awaited:
                self._changes.wait_for(lambda: self._served >= self.state.version or self.closed, timeout)

    def build_done(self) -> None:
        with self._changes:
            self.building = False
            self.builds += 1
            self._changes.notify_all()

    def close(self) -> None:
        with self._changes:
            self.closed = True
            self._changes.notify_all()

    def _publish(self, state: LiveState) -> None:
        self.state = state
        self._awaited = self._waiting > 0
        self._changes.notify_all()

    def news(self, since: int | None, timeout: float = POLL_SECONDS) -> dict:
        """What /changes answers: at once when the version is not ``since``, else when it changes (or later)."""
        with self._changes:
            self._waiting += 1
            try:
                self._changes.wait_for(lambda: self.state.version != since or self.closed, timeout)
            finally:
                self._waiting -= 1
            state = self.state
            return {
                "version": state.version,
                "page": self.page,
                "changed": sorted(state.changed)[:MAX_CHANGED],
                "many": len(state.changed) > MAX_CHANGED,  # then the page loads itself whole
                "failed": state.failed,
                "problems": len(state.problems),
                "builds": self.builds,
                "building": self.building,
            }

    def page_html(self, page: int, nonce: str, only: frozenset[str] | None = None) -> str:
        with self._changes:
            rendered, deck_name, state = self.rendered, self.deck_name, self.state
        page_html = live_page_html(rendered, deck_name, page, state, nonce, only)
        with self._changes:
            self._served = max(self._served, state.version)
            self._changes.notify_all()
        return page_html

    def media_file(self, name: str) -> Path | None:
        """The file of a packaged media name the cards show (no other file is ever served)."""
        with self._changes:
            if self._media is None:
                self._media = {image.name: image.source for card in self.rendered for image in card.images}
            return self._media.get(name)


def _changed(before: list[RenderedCard], after: list[RenderedCard]) -> list[str]:
    """The ids of the cards in ``after`` that are new or look different from ``before``, in deck order."""
    old = {card.source.id: card for card in before}
    changed = []
    for card in after:
        was = old.get(card.source.id)
        # (a card the build took from the last one as it was is the same object: the usual case)
        if was is not card and (was is None or _shown(was) != _shown(card)):
            changed.append(card.source.id)
    return changed


def _shown(card: RenderedCard) -> tuple:
    """What the page shows of a card (not its GUIDs, say, which deck.yaml's namespace changes)."""
    return card.question, card.answer, card.cloze_text, card.cloze_numbers, card.reference, card.section, card.media


class PreviewServer:
    """The preview's HTTP server, in a thread of its own."""

    def __init__(self, preview: LivePreview, port: int):
        try:
            self.httpd = _Server((HOST, port), _Handler)
        except OSError as exc:
            if exc.errno in _IN_USE:
                raise PortInUse(port) from None
            raise
        self.httpd.preview = preview
        self.port = self.httpd.server_address[1]
        self.url = f"http://{HOST}:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.preview.close()  # answers the waiting long polls
        self.httpd.shutdown()
        self.httpd.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # SO_REUSEADDR lets a new server take a port right after the last one stopped; on Windows it would
    # also let two servers share a port, so that a port in use would go unnoticed.
    allow_reuse_address = os.name != "nt"
    preview: LivePreview

    def handle_error(self, request, client_address) -> None:
        pass  # a browser that went away mid-answer: nothing to report, and no traceback in the terminal


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "build-deck"

    def do_GET(self) -> None:
        if not self._from_this_host():
            self._send(403, b"forbidden\n", "text/plain; charset=utf-8")
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        preview = self.server.preview
        if url.path == "/":
            nonce = secrets.token_urlsafe(16)
            page = _number(query.get("page", ["1"])[0], 1)
            only = frozenset(filter(None, query["notes"][0].split(","))) if "notes" in query else None
            body = preview.page_html(page, nonce, only).encode("utf-8")
            self._send(200, body, "text/html; charset=utf-8", _PAGE_POLICY.format(nonce=nonce))
        elif url.path == "/changes":
            news = preview.news(_number(query.get("since", [""])[0], None))
            self._send(200, json.dumps(news).encode(), "application/json")
        else:
            self._media(unquote(url.path[1:]))

    def _media(self, name: str) -> None:
        path = self.server.preview.media_file(name)
        try:
            data = path.read_bytes() if path is not None else None
        except OSError:
            data = None
        if data is None:
            self._send(404, b"not found\n", "text/plain; charset=utf-8")
        else:
            self._send(200, data, media_type(path), _MEDIA_POLICY)

    def _from_this_host(self) -> bool:
        """Refuse a request naming another host: a web page whose name was made to point at 127.0.0.1
        (DNS rebinding) must not read the preview."""
        host, port = self.headers.get("Host"), self.server.server_address[1]
        return host is None or host in (f"{HOST}:{port}", f"localhost:{port}")

    def _send(self, status: int, body: bytes, content_type: str, policy: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if policy:
            self.send_header("Content-Security-Policy", policy)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass  # the terminal shows builds, not requests


def _number(text: str, default):
    return int(text) if text.isdigit() else default
