"""Pages from Jinja2 templates, one environment per language, autoescaped.

Every string of a page goes through the language's catalog (``_``/``ngettext`` in
the templates, new-style: values are escaped before they are put in). What a
statement holds (its title, its text, organisations' names) is user text and is
only ever escaped, never trusted as markup.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from bot.web.i18n import LANGUAGES, NAMES, countries, country_name, number, translations

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment(lang: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      extensions=["jinja2.ext.i18n"], undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(lang=lang, number=lambda n: number(n, lang),
                       country_options=lambda selected: country_options(lang, selected),
                       signatory_items=lambda rows: signatory_items(lang, tuple(rows)))
    return env


# The two long parts of a page, made once and kept: a statement's signatories (hundreds
# of names in a last-day rush, where each visitor would otherwise render them all again)
# and the list of countries. Keyed by what they show, so they are never stale.
@lru_cache(maxsize=64)
def signatory_items(lang: str, rows: tuple[tuple[str, str | None], ...]) -> Markup:
    return Markup("\n").join(
        Markup("<li>{}{}</li>").format(name, Markup(' <span class="country">({})</span>')
                                       .format(country_name(code, lang)) if code else "")
        for name, code in rows)


@lru_cache(maxsize=256)
def country_options(lang: str, selected: str) -> Markup:
    return Markup("\n").join(
        Markup('<option value="{}"{}>{}</option>').format(
            code, Markup(" selected") if code == selected else "", name)
        for code, name in countries(lang))


def with_lang(path: str, lang: str) -> str:
    return f"{path}?{urlencode({'lang': lang})}"


def page(request: web.Request, template: str, lang: str, *, status: int = 200,
         **values: Any) -> web.Response:
    """The template rendered in ``lang``, with the language links of this page's path."""
    path = values.pop("path", request.path)
    languages = [(code, NAMES[code], with_lang(path, code)) for code in LANGUAGES]
    html = environment(lang).get_template(template).render(languages=languages, **values)
    response = web.Response(text=html, content_type="text/html", charset="utf-8",
                            status=status)
    response.headers["Content-Language"] = lang
    return response


def message(request: web.Request, lang: str, title: str, text: str, *, status: int,
            back: str | None = None, **values: Any) -> web.Response:
    """A page that only says something: ``title`` and ``text`` are catalog strings, with
    ``values`` put into ``text`` (escaped)."""
    return page(request, "message.html", lang, status=status, title=title, text=text,
                back=back, values=values)


def is_link(text: str) -> bool:
    """A statement text that is a single web address is shown as a link to it."""
    stripped = text.strip()
    if not stripped or any(ch.isspace() for ch in stripped):
        return False
    parts = urlsplit(stripped)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
