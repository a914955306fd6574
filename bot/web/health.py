"""``/healthz`` and ``/metrics`` on the ``[metrics]`` address: an aiohttp app of its own.

It serves for the whole life of ``caucus-bot run``, leader or standby, and holds no
state: :class:`bot.health.Health` decides what is healthy and what is counted.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.health import Health

HEALTH: web.AppKey[Health] = web.AppKey("health", Health)


def health_app(health: Health) -> web.Application:
    app = web.Application()
    app[HEALTH] = health
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    return app


async def _healthz(request: web.Request) -> web.Response:
    healthy, lines = await request.app[HEALTH].check()
    return web.Response(status=200 if healthy else 503,
                        text=("ok" if healthy else "unhealthy") + "\n" + "\n".join(lines) + "\n")


async def _metrics(request: web.Request) -> web.Response:
    body = await request.app[HEALTH].metrics()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def serve(health: Health, listen: str, port: int) -> web.AppRunner:
    """Start listening; the caller cleans the runner up when the process stops."""
    runner = web.AppRunner(health_app(health), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, listen, port).start()
    return runner
