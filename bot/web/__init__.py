"""The public sign-on pages of statements: an aiohttp.web app, Jinja2 templates, Babel
catalogs in English, French and Spanish.

The only place aiohttp's server is imported. A web sign-on goes through the same
storage functions as ``/signon``; the chat side (``/statement web``, ``/signon
approve``) lives in ``handlers.web_signons``, reached through the features' hooks.

``bot.web.health`` is a second, small app: ``/healthz`` and ``/metrics`` on the
``[metrics]`` port.
"""
