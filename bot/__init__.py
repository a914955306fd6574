"""Caucus Bot: chat-ops and a Telegram<->Matrix bridge for NGO coalitions at the HRC.

Importing this package imports no platform library; only the adapters
(``bot.telegram``, ``bot.matrix``) import ``telegram`` or ``nio``.
"""

__version__ = "0.1.0"
