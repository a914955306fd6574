"""Every string of the pages in French and Spanish: the catalogs are complete and current,
and a page rendered in either language shows no English sentence of ours."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.web.i18n import LANGUAGES, LOCALE_DIR
from tests.web.site import SECRETARIAT, WebBot, fetch_form, post_form

WEB = Path(__file__).resolve().parents[2] / "bot" / "web"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]


def source_messages() -> set[str | tuple[str, str]]:
    """What the code and templates mark for translation, as ``pybabel extract`` finds it."""
    found: set[str | tuple[str, str]] = set()
    for _, _, message, _, _ in extract_from_dir(
            str(WEB), METHODS, options_map={"templates/**.html": {
                "extensions": "jinja2.ext.i18n"}}, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def catalog(path: Path, lang: str | None = None) -> Any:
    with path.open("rb") as po:
        return read_po(po, locale=lang)


def test_the_template_holds_every_marked_string():
    template = catalog(LOCALE_DIR / "messages.pot")
    have = {m.id if isinstance(m.id, str) else tuple(m.id) for m in template if m.id}
    assert have == source_messages(), ("run pybabel extract (see bot/web/i18n.py): the "
                                       "catalog template is out of date")


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_string_is_translated(lang: str):
    translated = catalog(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", lang)
    wanted = source_messages()
    missing = []
    for message in translated:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else tuple(message.id)
        wanted.discard(key)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(key)
    assert missing == [] and wanted == set()
    # Placeholders match the English ones (Babel's own checks: python-format).
    problems = [(m.id, errors) for m, errors in translated.check() if errors]
    assert problems == []


# Words of our English strings that French and Spanish do not share ("organisation" is
# French too).
ENGLISH_WORDS = re.compile(r"\b(the|this|your|sign-ons?|organisations|withdraw|signed|"
                           r"deadline|required|field)\b", re.IGNORECASE)


@pytest.mark.parametrize("lang", ["fr", "es"])
async def test_a_page_in_french_or_spanish_has_no_english_sentence(
        site: WebBot, client: TestClient[Any, Any], lang: str):
    path = await site.open_statement(SECRETARIAT)
    await site.send('/signon S1 "Gulf Centre" | Lebanon')
    html, _ = await fetch_form(client, path, lang)
    errors = await (await post_form(client, path, lang=lang, signer_email="x",
                                    authorised="")).text()
    thanks = await (await post_form(client, path, lang=lang)).text()
    for page in (html, errors, thanks):
        assert f'<html lang="{lang}">' in page
        # What the page says, without markup and addresses, the statement's title and names.
        words = re.sub(r"<[^>]+>|https?://\S+", " ", page)
        for own in ("Letter on reprisals", "Gulf Centre", "Cairo Institute for Human Rights "
                    "Studies", "English", "ECOSOC"):
            words = words.replace(own, "")
        found = [words[max(0, m.start() - 40):m.end() + 40]
                 for m in ENGLISH_WORDS.finditer(words)]
        assert found == [], lang
