"""What keeps a public form from being abused: forged posts, robots, floods.

- **CSRF**: a random cookie (``SameSite=Strict``, ``HttpOnly``) and, in the form, an
  HMAC of it under a key of this process: a post from another site carries neither.
  A restart changes the key, and a form left open across it is asked again, filled in.
- **Rate**: so many posts an hour per client address, counted in memory. Behind a
  reverse proxy named in ``[web].trusted_proxies`` the address is the first one in
  ``X-Forwarded-For``, read from the right, that is not a trusted proxy; an address
  from anyone else's header is never believed (it is the client's to forge).
- **Headers**: a Content-Security-Policy that allows no script at all and nothing
  from another origin, ``nosniff``, no referrer (the page's address is its key), no
  framing, no caching of pages that carry a token.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence

from bot.config_web import IPNetwork

CSRF_COOKIE = "caucus_csrf"
CSRF_FIELD = "csrf"
HOUR = 3600.0
MAX_TRACKED = 100_000  # addresses remembered at once, so a flood cannot fill the memory
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class Csrf:
    def __init__(self, key: bytes | None = None):
        self._key = key or secrets.token_bytes(32)

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(32)

    def field_for(self, cookie: str) -> str:
        return hmac.new(self._key, cookie.encode("ascii", "replace"), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, field: str | None) -> bool:
        if not cookie or not field or len(cookie) > 100:
            return False
        return hmac.compare_digest(self.field_for(cookie), field)


class RateLimit:
    """At most ``per_hour`` events per key in any hour (a sliding window)."""

    def __init__(self, per_hour: int, clock: Callable[[], float] = time.monotonic):
        self.per_hour = per_hour
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str) -> float | None:
        """None when allowed (and counted); else seconds until the next one would be."""
        now = self.clock()
        times = self._seen.get(key)
        if times is None:
            if len(self._seen) >= MAX_TRACKED:
                self._forget_old(now)
            times = self._seen[key] = deque()
        while times and now - times[0] >= HOUR:
            times.popleft()
        if len(times) >= self.per_hour:
            return HOUR - (now - times[0])
        times.append(now)
        return None

    def _forget_old(self, now: float) -> None:
        for key in [k for k, v in self._seen.items() if not v or now - v[-1] >= HOUR]:
            del self._seen[key]
        if len(self._seen) >= MAX_TRACKED:  # all recent: start over rather than grow
            self._seen.clear()


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(remote: str | None, forwarded_for: str | None,
                   trusted: Sequence[IPNetwork]) -> str:
    """The address to count a post against (see the module docstring)."""
    peer = _address(remote or "")
    if peer is None:
        return remote or "unknown"

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in trusted)

    if not forwarded_for or not is_trusted(peer):
        return str(peer)
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        address = _address(hop)
        if address is None:
            return hop[:64]  # not an address: whatever it is, it is not a trusted proxy
        if not is_trusted(address):
            return str(address)
    return str(peer)
