"""Countries typed in commands: a name or code, or a clear refusal with suggestions.

The lookup itself (pycountry, aliases, the UN's spellings) is ``storage.countries``,
which importers use too.
"""

from __future__ import annotations

from bot.commands import CommandError
from storage.countries import Country, find_country, name_of, suggest_countries

__all__ = ["Country", "find_country", "name_of", "parse_country", "suggest_countries"]


def parse_country(text: str) -> Country:
    """A country from a name or code; a clear refusal with close suggestions otherwise."""
    found = find_country(text)
    if found is not None:
        return found
    close = suggest_countries(text)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise CommandError(f"I don't know the country '{text}'.{hint} Use a name or an ISO code "
                       "(Egypt, EG, EGY).")
