"""The pages' languages: English, French and Spanish, the languages of HRC written statements.

Translations are gettext catalogs (``locale/<lang>/LC_MESSAGES/messages.po``), kept as
``.po`` text in the repository and compiled in memory with Babel the first time a
language is asked for, so a fresh clone needs no build step. Dates, numbers and
country names come from Babel's CLDR data in the same language; the list of
countries is pycountry's (ISO 3166), as in chat.

To add or change a string: mark it (``_()`` in templates, ``N_()`` in Python), then
``pybabel extract -F bot/web/babel.cfg -o bot/web/locale/messages.pot bot/web`` and
``pybabel update -i bot/web/locale/messages.pot -d bot/web/locale``, and translate;
``tests/web/test_catalogs.py`` fails while a string has no translation.
"""

from __future__ import annotations

import gettext
import io
import unicodedata
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pycountry
from babel import Locale
from babel.dates import format_date, format_time, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("en", "fr", "es")
NAMES = {"en": "English", "fr": "Français", "es": "Español"}  # each in its own language
DEFAULT = "en"
LOCALE_DIR = Path(__file__).with_name("locale")
# Kosovo: not in ISO 3166, but in chat's list (handlers/countries.py) and in CLDR.
EXTRA_COUNTRIES = ("XK",)


def N_(message: str) -> str:  # gettext's name for "mark now, translate later"
    """Marks a string for the catalogs; it is translated where it is shown."""
    return message


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang``; English is the source language."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return gettext.NullTranslations()
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def choose(asked: str | None, accept_language: str | None) -> str:
    """``?lang=`` (or the form's ``lang``) when it names one of ours, else the browser's
    ``Accept-Language`` in its order of preference, else English."""
    if asked and asked.lower() in LANGUAGES:
        return asked.lower()
    for tag in _preferences(accept_language or ""):
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return DEFAULT


def _preferences(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most wanted first (q=0 left out)."""
    weighted: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and quality > 0:
            weighted.append((-quality, n, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def number(value: int, lang: str) -> str:
    return format_decimal(value, locale=lang)


def moment(when: datetime, tz: ZoneInfo, lang: str) -> str:
    """"Friday, December 4, 2026, 11:59 PM (Zurich time)" in the page's language."""
    t = translations(lang)
    local = when.astimezone(tz)
    return t.gettext("%(date)s, %(time)s (%(city)s time)") % {
        "date": format_date(local, "full", locale=lang),
        "time": format_time(local, "short", tzinfo=tz, locale=lang),
        "city": get_timezone_location(tz, locale=lang, return_city=True)}


@cache
def countries(lang: str) -> tuple[tuple[str, str], ...]:
    """(code, name in ``lang``) of every country, in that language's alphabetical order."""
    names = Locale.parse(lang).territories
    codes = [c.alpha_2 for c in pycountry.countries] + list(EXTRA_COUNTRIES)
    pairs = [(code, names.get(code) or _english(code)) for code in codes]
    return tuple(sorted(pairs, key=lambda pair: _sort_key(pair[1])))


@cache
def _names(lang: str) -> dict[str, str]:
    return dict(countries(lang))


def country_name(code: str | None, lang: str) -> str:
    """A country's name in ``lang`` (looked up once per language: a page lists hundreds)."""
    if not code:
        return ""
    return _names(lang).get(code) or code


def is_country(code: str) -> bool:
    return code in _names(DEFAULT)


def _english(code: str) -> str:
    found = pycountry.countries.get(alpha_2=code)
    return str(getattr(found, "common_name", None) or getattr(found, "name", code))


def _sort_key(name: str) -> str:
    """Accents do not move a name ("Égypte" sorts with the E's)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
