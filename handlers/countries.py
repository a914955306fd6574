"""Countries typed in commands: a name or code, or a clear refusal with suggestions.

The lookup itself (pycountry, aliases, the UN's spellings) is ``storage.countries``,
which importers use too.
"""

from __future__ import annotations

from bot.arguments import Param
from bot.commands import CommandError
from storage.countries import Country, find_country, name_of, suggest_countries

__all__ = ["Country", "country_param", "find_country", "name_of", "parse_country",
           "suggest_countries"]


def parse_country(text: str) -> Country:
    """A country from a name or code; a clear refusal with close suggestions otherwise."""
    found = find_country(text)
    if found is not None:
        return found
    close = suggest_countries(text)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise CommandError(f"I don't know the country '{text}'.{hint} Use a name or an ISO code "
                       "(Egypt, EG, EGY).")


def country_param(*, optional: bool = False) -> Param:
    """The ``<country>`` a command takes, handed to it as a :class:`Country`."""
    return Param("country", kind="text", optional=optional, parse=parse_country)
