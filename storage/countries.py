"""Countries by name or ISO 3166 code, from pycountry, with the names people and UN data use.

Stored as alpha-2 codes; shown by the short name a coalition letter would print.
Lives in storage because importers read the UN's spellings too ("Iran (Islamic
Republic of)", "Türkiye"); ``handlers.countries`` turns a miss into a chat answer.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import pycountry

# Names in common use that ISO 3166 spells otherwise (or, for Kosovo, leaves out:
# XK is the code the UN, the EU and most data sets use for it).
ALIASES = {
    "russia": "RU", "turkey": "TR", "uk": "GB", "britain": "GB", "great britain": "GB",
    "england": "GB", "palestine": "PS", "drc": "CD", "dr congo": "CD",
    "democratic republic of the congo": "CD", "congo-kinshasa": "CD",
    "republic of the congo": "CG", "congo-brazzaville": "CG", "ivory coast": "CI",
    "cape verde": "CV", "swaziland": "SZ", "burma": "MM", "macedonia": "MK",
    "holland": "NL", "us": "US", "america": "US", "united states of america": "US",
    "moldova": "MD", "the gambia": "GM", "gambia": "GM", "kosovo": "XK", "east timor": "TL",
    "vatican": "VA", "micronesia": "FM", "holy see": "VA", "czech republic": "CZ", "uae": "AE",
    "ksa": "SA",
    # The UN's own spellings, as in UN documents and the Universal Human Rights Index.
    "united kingdom of great britain and northern ireland": "GB",
    "democratic people's republic of korea": "KP", "republic of korea": "KR",
    "state of palestine": "PS", "turkiye": "TR", "congo": "CG",
}
EXTRA = {"XK": "Kosovo"}
# "Iran (Islamic Republic of)": the UN writes the qualifier after the name.
QUALIFIED = re.compile(r"(?P<name>[^()]+?)\s*\((?P<qualifier>[^()]+)\)\s*")


@dataclass(frozen=True)
class Country:
    code: str
    name: str


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold().strip())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("’", "'")


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                index[_fold(value)] = c.alpha_2
    index.update(ALIASES)
    index.update({_fold(name): code for code, name in EXTRA.items()})
    return index


@cache
def name_of(code: str) -> str:
    if code in EXTRA:
        return EXTRA[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    common = getattr(country, "common_name", None)
    if common:
        return common
    # ISO's inverted names read as the UN writes them: "State of Palestine".
    head, comma, tail = country.name.partition(", ")
    return f"{tail} {head}".removeprefix("The ") if comma else country.name


def find_country(text: str) -> Country | None:
    raw = text.strip()
    if len(raw) in (2, 3) and raw.isalpha():
        upper = raw.upper()
        if upper in EXTRA:
            return Country(upper, EXTRA[upper])
        found = (pycountry.countries.get(alpha_2=upper) if len(raw) == 2
                 else pycountry.countries.get(alpha_3=upper))
        if found is not None:
            return Country(found.alpha_2, name_of(found.alpha_2))
    code = _index().get(_fold(raw))
    if code is None and (match := QUALIFIED.fullmatch(raw)) is not None:
        name, qualifier = match.group("name"), match.group("qualifier")
        code = (_index().get(_fold(f"{qualifier} {name}")) or _index().get(_fold(name))
                or _index().get(_fold(f"{name}, {qualifier}")))
    return Country(code, name_of(code)) if code else None


def suggest_countries(text: str, n: int = 3) -> list[str]:
    matches = difflib.get_close_matches(_fold(text), list(_index()), n=n * 3, cutoff=0.6)
    names: list[str] = []
    for match in matches:
        name = name_of(_index()[match])
        if name not in names:
            names.append(name)
    return names[:n]
