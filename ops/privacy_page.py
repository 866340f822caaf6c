"""The public privacy page (`footfall privacy serve`): what a mall's signs and WiFi portal
link to. A shopper types their phone's MAC and opts out of counting (or back in), or
gives or withdraws consent to the favourite-shop feed; a portal or an app does the same
over HTTP (POST /api/<action> with {"mac": ...}, answered in JSON). The MAC is hashed as
the job hashes it and never stored or logged: only the device id reaches the registries
(footfall/consent.py), and the request log line names no MAC."""

from __future__ import annotations

import html
import json
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any

from footfall import consent
from footfall.settings import Settings
from udfs.identity import DeviceQueryError, device_for

PAGE = Template((Path(__file__).parent / "templates" / "privacy.html").read_text())
#: What the page says once a choice (footfall/consent.py CHOICES) is carried out.
SAID = {
    "opt-out": "Your phone is no longer counted, from within a minute.",
    "opt-in": "Your phone is counted again, from within a minute.",
    "consent": "Thank you: your phone's favourite shops may be used for offers.",
    "withdraw": "Your phone's favourite shops are no longer used for offers.",
}
#: A form or JSON body larger than this is refused unread.
MAX_BODY = 4096


def answer(settings: Settings, action: str, mac: str) -> tuple[int, dict[str, Any]]:
    """Carry out one request: (HTTP status, what to say)."""
    if action not in consent.CHOICES:
        return 404, {"error": f"unknown action {action!r}: one of {', '.join(consent.CHOICES)}"}
    try:
        device = device_for(mac, settings, make_salt=True)
    except DeviceQueryError:
        return 400, {"error": "That is not a WiFi address: six pairs of letters a-f and digits, "
                              "separated by ':' or '-'."}
    consent.choose(settings.postgres, action, device)
    return 200, {"device_id": device, "action": action, "said": SAID[action]}


def handler(settings: Settings) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """http.server logs the request line only (path and status), never a body, where a
        MAC would be: a MAC is only ever posted."""

        server_version = "footfall-privacy"

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _page(self, status: int, said: str = "", wrong: bool = False) -> None:
            box = f'<p class="{"wrong" if wrong else "said"}">{html.escape(said)}</p>' if said else ""
            self._send(status, PAGE.substitute(said=box).encode(), "text/html; charset=utf-8")

        def _body(self) -> bytes | None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, b'{"error": "request too large"}', "application/json")
                return None
            return self.rfile.read(length)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if urllib.parse.urlsplit(self.path).path in ("/", "/index.html"):
                self._page(200)
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            path = urllib.parse.urlsplit(self.path).path
            body = self._body()
            if body is None:
                return
            if path.startswith("/api/"):
                try:
                    mac = str(json.loads(body or b"{}").get("mac", ""))
                except (ValueError, AttributeError):
                    self._send(400, b'{"error": "send JSON: {\\"mac\\": \\"...\\"}"}', "application/json")
                    return
                status, said = answer(settings, path.removeprefix("/api/"), mac)
                self._send(status, json.dumps(said).encode(), "application/json")
                return
            form = urllib.parse.parse_qs(body.decode(errors="replace"))
            status, said = answer(settings, form.get("action", [""])[0], form.get("mac", [""])[0])
            self._page(status, said.get("said") or said.get("error", ""), wrong=status != 200)

    return Handler


def serve(settings: Settings, host: str = "127.0.0.1") -> None:
    server = ThreadingHTTPServer((host, settings.privacy.privacy_port), handler(settings))
    print(f"privacy page on http://{host}:{settings.privacy.privacy_port} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
