"""The ``[web]`` table: where the public sign-on pages are served, and how they are reached.

Read with the rest of the config (``bot.config``); a config without ``[web]`` serves
no pages, and ``/statement web`` says how to turn them on.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.config_reader import Section

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
KEYS = {"listen", "port", "public_url", "trusted_proxies", "review", "submissions_per_hour"}


@dataclass(frozen=True)
class WebConfig:
    listen: str = "127.0.0.1"
    port: int = 8080
    # The address people use, without a trailing slash: what /statement web answers with.
    public_url: str = "http://127.0.0.1:8080"
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks).
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # A web sign-on waits for a secretariat's /signon approve.
    review: bool = True
    # Per client address: form submissions and withdrawals an hour.
    submissions_per_hour: int = 10

    def page_url(self, token: str) -> str:
        return f"{self.public_url}/s/{token}"


def read_web(s: Section) -> WebConfig:
    listen = s.text("listen", "127.0.0.1", required=True) or "127.0.0.1"
    port = s.get("port", int, 8080)
    if not 0 < port < 65536:
        s.fail("port", "must be a port number from 1 to 65535")
        port = 8080
    default_url = f"http://{'127.0.0.1' if listen in ('0.0.0.0', '::') else listen}:{port}"
    public_url = s.url("public_url", default_url) or default_url
    parts = urlsplit(public_url)
    if parts.query or parts.fragment:
        s.fail("public_url", "must be an address without ?query or #fragment, e.g. "
                             "https://sign.example.org")
    proxies: list[IPNetwork] = []
    for n, raw in enumerate(s.get("trusted_proxies", list, [])):
        try:
            proxies.append(ipaddress.ip_network(str(raw), strict=False))
        except ValueError:
            s.problems.at(s.source, f"{s.name}.trusted_proxies[{n}]",
                          f"{raw!r} is not an IP address or network (e.g. 127.0.0.1 or "
                          "10.0.0.0/8)")
    per_hour = s.get("submissions_per_hour", int, 10)
    if per_hour < 1:
        s.fail("submissions_per_hour", "must be 1 or more")
        per_hour = 10
    return WebConfig(listen=listen, port=port, public_url=public_url.rstrip("/"),
                     trusted_proxies=tuple(proxies), review=s.get("review", bool, True),
                     submissions_per_hour=per_hour)
