"""The web side of the bot: the only place aiohttp's server is used (nothing in handlers
imports aiohttp). Each app has a small factory of its own; ``health`` serves ``/healthz``
and ``/metrics`` on the metrics port."""
