"""The statement page, its sign-on form, and the private withdrawal link.

A web sign-on goes through ``storage.web_signons``, which signs with the same
normalised key and the same unique index as ``/signon``. The rooms that have the
statement are told through the outbox (the ``web_signon_notice`` hook of the
features), in the same transaction that records the sign-on, so neither goes without
the other. Works without JavaScript: plain forms, answered with pages.

The database and the templates are worked in the pages' own threads (``Site.run``),
so that a rush on a page never holds up the bot's relay on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlmodel import Session, col, select

from bot.web import render
from bot.web.forms import HONEYPOT, LIMITS, FormResult, read_form
from bot.web.guard import CSRF_COOKIE, CSRF_FIELD
from bot.web.i18n import N_, choose, moment, translations
from bot.web.site import SITE, PageAnswer, Site
from storage import audit
from storage.statements import Signature, Statement, StatementText, counts
from storage.web_signons import (
    AlreadyPending,
    AlreadySigned,
    Received,
    WebSignon,
    by_withdraw_token,
    pending_count,
    signature_of,
    statement_for_page,
    submit,
    withdraw,
    withdrawable,
)

ACTOR = "web"  # who the audit trail names for what came through the page


@dataclass(frozen=True)
class Asked:
    """What every request starts with: the statement its address names, and the language."""

    statement: Statement
    lang: str
    path: str


def _lang(request: web.Request, form: dict[str, str] | None = None) -> str:
    asked = request.query.get("lang") or (form or {}).get("lang")
    return choose(asked, request.headers.get("Accept-Language"))


def not_found(request: web.Request, lang: str) -> PageAnswer:
    return PageAnswer(render.message(
        request, lang, N_("Page not found"),
        N_("There is no sign-on page at this address. Check the link you were given, or ask "
           "the coalition for it."), status=404))


def _statement(site: Site, db: Session, request: web.Request, lang: str) -> Statement:
    statement = statement_for_page(db, request.match_info["token"])
    if statement is None:
        raise not_found(request, lang)
    return statement


def is_closed(site: Site, statement: Statement) -> bool:
    return not statement.web_open or statement.closed_for_sign_ons(site.clock())


def _listed(db: Session, statement_id: int) -> list[tuple[str, str | None]]:
    rows = db.exec(select(Signature.org_name, Signature.country)
                   .where(Signature.statement_id == statement_id)
                   .where(col(Signature.withdrawn_at).is_(None))
                   .where(col(Signature.unlisted).is_(False)))
    return sorted(rows, key=lambda row: row[0].casefold())


def statement_page(site: Site, db: Session, request: web.Request, statement: Statement,
                   lang: str, *, form: FormResult | None = None, status: int = 200,
                   notice: str | None = None) -> web.Response:
    """The page: what the statement is, who signed, and the form while it is open."""
    t = translations(lang)
    total, countries = counts(db, statement.key)
    listed = _listed(db, statement.key)
    latest = db.get(StatementText, (statement.id, statement.text_version))
    cookie = _cookie(request, site)
    errors = {key: t.gettext(text) % {"limit": LIMITS.get(key, 0)}
              for key, text in (form.errors if form else {}).items()}
    response = render.page(
        request, "page.html", lang, status=status, path=f"/s/{statement.web_token}",
        statement=statement, closed=is_closed(site, statement),
        deadline=moment(statement.deadline, site.config.bot.tz, lang)
        if statement.deadline else None,
        text_link=latest.text.strip() if latest and render.is_link(latest.text) else None,
        text_body=latest.text if latest and not render.is_link(latest.text) else None,
        total=total, countries_count=countries, unlisted=total - len(listed), listed=listed,
        pending=pending_count(db, statement.key), values=form.values if form else {},
        errors=errors, limits=LIMITS, csrf=site.csrf.field_for(cookie), honeypot=HONEYPOT,
        notice=notice, retention_days=site.config.privacy.web_signer_retention_days,
        review=site.web.review)
    return _keep_cookie(request, site, response, cookie)


def _cookie(request: web.Request, site: Site) -> str:
    """The browser's CSRF cookie, or a new one (see bot.web.guard)."""
    return request.cookies.get(CSRF_COOKIE) or site.csrf.new_cookie()


def _keep_cookie(request: web.Request, site: Site, response: web.Response,
                 cookie: str) -> web.Response:
    if request.cookies.get(CSRF_COOKIE) != cookie:
        response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="Strict",
                            secure=site.web.public_url.startswith("https:"), path="/s/")
    return response


async def show(request: web.Request) -> web.StreamResponse:
    site: Site = request.app[SITE]
    return await site.run(_show, site, request, _lang(request))


def _show(site: Site, request: web.Request, lang: str) -> web.Response:
    with site.database.session() as db:
        statement = _statement(site, db, request, lang)
        return statement_page(site, db, request, statement, lang)


async def _posted(request: web.Request, site: Site) -> tuple[dict[str, str], str]:
    """The form's fields and the page's language, once the client address is within its
    hourly limit (else a 429 page is raised). A body over the app's limit answers 413."""
    wait = site.limits.allow(site.client(request))
    if wait is not None:
        response = render.message(request, _lang(request), N_("Too many attempts"),
                                  N_("This address has sent the form too often in the last "
                                     "hour. Try again in %(minutes)s minutes."), status=429,
                                  minutes=max(1, round(wait / 60)))
        response.headers["Retry-After"] = str(int(wait) + 1)
        raise PageAnswer(response)
    posted = await request.post()
    data = {key: value for key, value in posted.items() if isinstance(value, str)}
    return data, _lang(request, data)


def _refused(site: Site, request: web.Request, data: dict[str, str],
             lang: str) -> web.Response | None:
    """The checks before the fields are read: a forged post, a robot."""
    if data.get(HONEYPOT):
        return render.message(request, lang, N_("Not sent"),
                              N_("The form could not be accepted. If you are a person, leave "
                                 "the field that says to leave it empty blank, and send the "
                                 "form again."), status=400)
    return None


async def sign(request: web.Request) -> web.StreamResponse:
    site: Site = request.app[SITE]
    data, lang = await _posted(request, site)
    refused = _refused(site, request, data, lang)
    if refused is not None:
        return refused
    return await site.run(_sign, site, request, data, lang)


def _sign(site: Site, request: web.Request, data: dict[str, str], lang: str) -> web.Response:
    with site.database.session() as db:
        statement = _statement(site, db, request, lang)
        if is_closed(site, statement):
            return statement_page(site, db, request, statement, lang, status=403)
        form = read_form(data)
        if not site.csrf.valid(request.cookies.get(CSRF_COOKIE), data.get(CSRF_FIELD)):
            return statement_page(site, db, request, statement, lang, form=form, status=403,
                                  notice=N_("The form had expired. Check what you wrote and "
                                            "send it again."))
        if form.submission is None:
            return statement_page(site, db, request, statement, lang, form=form, status=400)
        now = site.clock()
        outcome = submit(db, statement, form.submission, now=now, review=site.web.review,
                         org_key=form.org_key)
        if isinstance(outcome, AlreadySigned | AlreadyPending):
            # The same words whether it signed listed or unlisted: no one learns which.
            text = (N_("This organisation's signature on this statement is already recorded. "
                       "If that seems wrong, write to the coalition's secretariat.")
                    if isinstance(outcome, AlreadySigned) else
                    N_("A sign-on for this organisation is already waiting for the "
                       "secretariat's review: nothing more to do."))
            return render.message(request, lang, N_("Already received"), text, status=409,
                                  back=render.with_lang(f"/s/{statement.web_token}", lang))
        return _received(site, db, request, statement, outcome, lang)


def _received(site: Site, db: Session, request: web.Request, statement: Statement,
              outcome: Received, lang: str) -> web.Response:
    row = outcome.row
    _tell(site, db, statement, row, "new")
    page = f"/s/{statement.web_token}"
    return render.page(request, "thanks.html", lang, path=page, statement=statement,
                       org=row.org_name, pending=row.status == "pending", unlisted=row.unlisted,
                       page_url=render.with_lang(page, lang),
                       withdraw_url=render.with_lang(
                           f"{site.web.public_url}{page}/withdraw/{outcome.withdraw_token}", lang))


def _tell(site: Site, db: Session, statement: Statement, row: WebSignon, event: str) -> None:
    """The statement's rooms are told, and the audit trail written, in the transaction
    that records the change; then the outbox worker is woken."""
    now = site.clock()
    site.features.web_signon_notice(db, site.config, statement, row, event, now)
    audit.record(db, at=now, actor_id=ACTOR, room_id=ACTOR,
                 action="statement.web.signon" if event == "new" else "statement.web.withdraw",
                 target=statement.code,
                 detail=f"#{row.id} " + ("(unlisted)" if row.unlisted else row.org_name))
    db.commit()
    site.queued()


def _withdrawal(site: Site, db: Session, request: web.Request,
                lang: str) -> tuple[Statement, WebSignon]:
    statement = _statement(site, db, request, lang)
    row = by_withdraw_token(db, statement.key, request.match_info["key"])
    if row is None:
        raise not_found(request, lang)
    return statement, row


def _cannot_withdraw(site: Site, db: Session, request: web.Request, statement: Statement,
                     row: WebSignon, lang: str) -> web.Response | None:
    back = render.with_lang(f"/s/{statement.web_token}", lang)
    if not withdrawable(db, row):
        return render.message(request, lang, N_("Nothing to withdraw"),
                              N_("This sign-on is no longer on the list: it was withdrawn, or "
                                 "the secretariat did not approve it."), status=410, back=back)
    if statement.closed_for_sign_ons(site.clock()):
        return render.message(request, lang, N_("Sign-ons are closed"),
                              N_("This statement is closed, so its signatures can no longer "
                                 "be withdrawn here. Write to the coalition's secretariat."),
                              status=403, back=back)
    return None


async def confirm_withdrawal(request: web.Request) -> web.StreamResponse:
    site: Site = request.app[SITE]
    return await site.run(_confirm_withdrawal, site, request, _lang(request))


def _confirm_withdrawal(site: Site, request: web.Request, lang: str) -> web.Response:
    with site.database.session() as db:
        statement, row = _withdrawal(site, db, request, lang)
        refusal = _cannot_withdraw(site, db, request, statement, row, lang)
        if refusal is not None:
            return refusal
        cookie = _cookie(request, site)
        response = render.page(request, "withdraw.html", lang, statement=statement,
                               org=row.org_name, csrf=site.csrf.field_for(cookie),
                               signed=signature_of(db, row) is not None,
                               back=render.with_lang(f"/s/{statement.web_token}", lang))
        return _keep_cookie(request, site, response, cookie)


async def do_withdraw(request: web.Request) -> web.StreamResponse:
    site: Site = request.app[SITE]
    data, lang = await _posted(request, site)
    return await site.run(_withdraw, site, request, data, lang)


def _withdraw(site: Site, request: web.Request, data: dict[str, str], lang: str) -> web.Response:
    with site.database.session() as db:
        statement, row = _withdrawal(site, db, request, lang)
        refusal = _cannot_withdraw(site, db, request, statement, row, lang)
        if refusal is not None:
            return refusal
        if not site.csrf.valid(request.cookies.get(CSRF_COOKIE), data.get(CSRF_FIELD)):
            return render.message(request, lang, N_("Not withdrawn"),
                                  N_("The page had expired. Open your withdrawal link again "
                                     "and confirm."), status=403)
        withdraw(db, row, now=site.clock())
        _tell(site, db, statement, row, "withdrawn")
        return render.message(request, lang, N_("Withdrawn"),
                              N_("The sign-on of %(org)s is withdrawn from this statement, and "
                                 "the secretariat is told. Your name and e-mail are deleted."),
                              status=200, org=row.org_name,
                              back=render.with_lang(f"/s/{statement.web_token}", lang))


async def home(request: web.Request) -> web.StreamResponse:
    lang = _lang(request)
    return render.message(request, lang, N_("Sign-on pages"),
                          N_("This server hosts the sign-on pages of a coalition's joint "
                             "statements. Each statement has its own address: ask the "
                             "coalition for the link."), status=200)
