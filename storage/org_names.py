"""The key that says two spellings of an organisation's name are one organisation.

The printed name is kept exactly as typed; only this key is folded. It is what the
unique index on active signatures holds, so two members typing the same organisation
differently still make one signature. Folding follows Unicode: compatibility forms
(NFKC), case (casefold), accents on Latin, Greek and Cyrillic letters, and letters
that look alike across scripts, read from the Unicode TR39 confusables table as
packaged by ``confusable_homoglyphs`` (not a hand-kept list). A change here changes
stored keys: it needs a data migration (see ``migrations/versions/0010_org_keys.py``).
"""

from __future__ import annotations

import unicodedata
from functools import cache

from confusable_homoglyphs.utils import load

# Scripts whose accents are optional in practice ("Asociacion" for "Asociación"). Marks on
# other scripts (Devanagari vowel signs, for one) make different words, and stay.
_ACCENTED_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


@cache
def _ascii_look_alikes() -> dict[str, str]:
    """Each non-ASCII letter of the TR39 table -> the ASCII letter or digit it looks like.

    Built on first use, so a bot that never signs never reads the table, and kept small:
    the package's whole table (about 8 MB in memory) is dropped once this is made.
    """
    found: dict[str, str] = {}
    for ch, glyphs in load("confusables.json").items():
        if len(ch) != 1 or ch.isascii() or not ch.isalpha():
            continue
        for glyph in glyphs:
            target = glyph["c"]
            if len(target) == 1 and target.isascii() and target.isalnum():
                found[ch] = target.casefold()
                break
    return found


@cache
def _look_alike(ch: str) -> str:
    """The ASCII letter or digit a non-ASCII letter is confusable with, else ``ch``.

    Only non-ASCII letters move, so "l", "1" and "I" (confusable with each other in TR39)
    stay three letters: the aim is Cyrillic "а" and Greek "ο" posing as Latin ones. The
    small and the capital form are both asked, small first, so that a letter folds the
    same in either case (Greek "Τ" looks like "T", its small "τ" like nothing).
    """
    if ch.isascii() or not ch.isalpha():
        return ch
    table = _ascii_look_alikes()
    for form in (ch.lower(), ch.upper()):
        if form in table:
            return table[form]
    return ch


def _has_optional_accents(base: str) -> bool:
    return len(base) == 1 and unicodedata.name(base, "").startswith(_ACCENTED_SCRIPTS)


def normalise_org_name(name: str) -> str:
    """The key that says two spellings are one organisation.

    Case-folded, Unicode compatibility forms folded, ``&`` read as "and", punctuation
    and spacing folded, accents on Latin/Greek/Cyrillic letters dropped, invisible format
    characters (soft hyphen, zero-width) dropped, and look-alike letters of other scripts
    read as the Latin ones: "Human Rights Watch", "HUMAN-RIGHTS  WATCH", "Ηuman Rights
    Watch" (Greek Eta) and "human rights watch." are one key, as are "Asociación" and
    "Asociacion". Letters, marks and digits of every other script are kept.
    """
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    kept: list[str] = []
    base = ""
    for ch in decomposed:
        category = unicodedata.category(ch)
        if category == "Cf":
            continue
        if category == "Mn" and _has_optional_accents(base):
            continue
        if category[0] != "M":
            base = ch
        kept.append(_look_alike(ch))
    folded = unicodedata.normalize("NFKC", "".join(kept)).casefold()
    folded = unicodedata.normalize("NFKC", folded).replace("&", " and ")
    spaced = "".join(ch if unicodedata.category(ch)[0] in "LMN" else " " for ch in folded)
    return " ".join(spaced.split())
