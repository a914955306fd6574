"""The sign-on page over HTTP, in-process: what it shows, what it takes, what it refuses."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from storage.statements import Signature
from storage.web_signons import WebSignon
from tests.harness import Network
from tests.web.site import SECRETARIAT, SIGNER, WebBot, fetch_form, post_form

Client = TestClient[Any, Any]
WITHDRAW = re.compile(r'href="http://signons\.test(/s/[\w-]+/withdraw/[\w-]+)\?lang=\w+"')


def rows(site: WebBot, model: Any) -> list[Any]:
    with site.database.session() as db:
        return list(db.exec(select(model)))


async def test_the_page_shows_the_statement_and_a_labelled_form(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    await site.send("/statement text S1 https://example.org/letter-v2", user=SECRETARIAT)
    html, token = await fetch_form(client, path)
    assert '<html lang="en">' in html
    assert "<h1>Letter on reprisals</h1>" in html
    assert "Open for sign-ons" in html
    # CLDR puts a narrow no-break space before "PM".
    assert "Tuesday, December 1, 2026, 11:59\u202fPM (Zurich time)" in html
    assert "Version 2" in html and 'href="https://example.org/letter-v2"' in html
    assert "No organisation has signed yet." in html
    for field in ("org_name", "country", "level", "ecosoc", "unlisted", "signer_name",
                  "signer_email", "authorised"):
        assert f'<label for="{field}">' in html, field
    assert '<option value="EG">Egypt</option>' in html
    assert "I am authorised to sign for this organisation" in html
    assert "deleted 90 days after the statement's deadline" in html  # the privacy notice
    assert token


async def test_every_response_carries_the_security_headers(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    for url in (path, "/static/style.css", "/s/nope", "/"):
        response = await client.get(url)
        headers = response.headers
        assert "script-src" not in headers["Content-Security-Policy"], url  # default: none
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
    html, _ = await fetch_form(client, path)
    # Nothing from elsewhere: no scripts at all, and the one stylesheet is ours.
    assert "<script" not in html and " src=" not in html
    assert re.findall(r'<link [^>]*href="([^"]+)"', html) == ["/static/style.css"]


async def test_a_web_sign_on_waits_for_review_then_counts(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    response = await post_form(client, path)
    thanks = await response.text()
    assert response.status == 200
    assert "The sign-on of Cairo Institute for Human Rights Studies on “Letter on reprisals” " \
           "is received." in thanks
    assert WITHDRAW.search(thanks)
    assert site.woken == 1  # the outbox worker is woken for the notice
    [(room, notice)] = site.queued()
    assert room == site.net.room
    assert notice.plain() == ("New web sign-on for S1: Cairo Institute for Human Rights Studies "
                              "(Egypt) — /signon approve S1 1 · /signon reject S1 1")
    html, _ = await fetch_form(client, path)
    assert "No organisation has signed yet." in html  # pending: counted apart, not printed
    assert "1 more sign-on waits for the secretariat's review." in html
    assert "Cairo Institute" not in html
    answer = await site.say("/signon approve S1 1", user=SECRETARIAT)
    assert answer == ("Approved web sign-on 1: Cairo Institute for Human Rights Studies "
                      "(Egypt) signed S1.\n1 organisation from 1 country so far.")
    html, _ = await fetch_form(client, path)
    assert "1 organisation from 1 country" in html
    assert "<li>Cairo Institute for Human Rights Studies <span class=\"country\">(Egypt)" \
           "</span></li>" in html
    [signature] = rows(site, Signature)
    assert (signature.source, signature.signed_by, signature.signed_in) == ("web", "web:1", "web")


async def test_the_csv_alone_carries_the_signer_and_the_source(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    await post_form(client, path)
    await post_form(client, path, org_name="Gulf Centre", country="LB",
                    signer_email="gc@example.org")
    await site.send("/signon approve S1 1", user=SECRETARIAT)
    await site.send("/signon S1 Chat Org | Kenya")
    reply = await site.send("/statement export S1 csv", user=SECRETARIAT, dm=True)
    assert reply is not None and reply.file is not None
    table = list(csv.DictReader(io.StringIO(reply.file.data.decode("utf-8-sig"))))
    by_org = {row["organisation"]: row for row in table}
    assert {k: by_org["Cairo Institute for Human Rights Studies"][k] for k in
            ("source", "review", "signer_name", "signer_email", "signed_by")} == {
        "source": "web", "review": "approved", "signer_name": "Ana Signer",
        "signer_email": "ana@example.org", "signed_by": "web:1"}
    assert (by_org["Gulf Centre"]["review"], by_org["Gulf Centre"]["signer_email"]) == (
        "pending", "gc@example.org")
    assert (by_org["Chat Org"]["source"], by_org["Chat Org"]["signer_email"]) == ("chat", "")
    assert reply.plain().startswith("S1: 2 rows (2 active, 0 withdrawn; 1 more from the web")
    for fmt in ("text", "hrc"):
        shown = await site.say(f"/statement export S1 {fmt}", user=SECRETARIAT)
        assert "example.org" not in shown and "Gulf Centre" not in shown


async def test_the_same_organisation_is_reported_not_doubled(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    await site.send('/signon S1 "Cairo Institute for Human Rights Studies" | Egypt')
    response = await post_form(client, path, org_name="cairo institute for human-rights "
                                                      "STUDIES.")
    assert response.status == 409
    assert "already recorded" in await response.text()
    response = await post_form(client, path, org_name="Gulf Centre", country="LB")
    assert response.status == 200
    again = await post_form(client, path, org_name="GULF  centre", country="LB")
    assert again.status == 409
    assert "already waiting for the secretariat's review" in await again.text()
    assert len(rows(site, Signature)) == 1 and len(rows(site, WebSignon)) == 1


async def test_the_organisation_that_signed_meanwhile_is_a_duplicate(site: WebBot,
                                                                     client: Client):
    path = await site.open_statement(SECRETARIAT)
    await post_form(client, path)
    await site.send('/signon S1 "Cairo Institute for Human Rights Studies" | Egypt')
    answer = await site.say("/signon approve S1 1", user=SECRETARIAT)
    assert answer == ("Web sign-on 1: that organisation has signed S1 already, so nothing was "
                      "added (marked a duplicate).")
    assert len(rows(site, Signature)) == 1
    [web] = rows(site, WebSignon)
    assert (web.status, web.signer_email) == ("duplicate", None)
    assert await site.say("/signon approve S1 1", user=SECRETARIAT) == (
        "Web sign-on 1 on S1 is not waiting for review: it was found to be a duplicate (the "
        "organisation had signed).")


async def test_missing_and_wrong_fields_are_named_next_to_them(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    response = await post_form(client, path, org_name="Voices", signer_name="",
                               signer_email="not-an-address", country="ZZ", authorised="")
    html = await response.text()
    assert response.status == 400
    assert "<title>Error: Letter on reprisals — Sign-on</title>" in html
    assert "4 things to fix before sending:" in html
    for field, words in (("signer_name", "This field is required."),
                         ("signer_email", "Write an e-mail address like name@example.org."),
                         ("country", "Choose a country from the list."),
                         ("authorised", "tick this box to confirm you are.")):
        error = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html)
        assert error and words in error.group(1), field
        assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error"'
                         rf'[^>]*aria-invalid="true"', html), field
    assert 'value="Voices"' in html  # what was typed stays
    assert rows(site, WebSignon) == []


async def test_fields_have_length_limits(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    html, _ = await fetch_form(client, path)
    assert 'maxlength="300"' in html and 'maxlength="254"' in html
    response = await post_form(client, path, org_name="A" * 301)
    assert response.status == 400
    assert "This is too long: keep it to 300 characters." in await response.text()
    assert rows(site, WebSignon) == []


async def test_a_large_body_is_refused_with_413(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    response = await client.post(path, data={"org_name": "x" * 40_000})
    assert response.status == 413
    assert "more than a sign-on can hold" in await response.text()


async def test_a_post_without_the_form_token_or_cookie_is_refused(site: WebBot, client: Client,
                                                                  tmp_path: Path):
    path = await site.open_statement(SECRETARIAT)
    _, token = await fetch_form(client, path)
    response = await client.post(path, data={**SIGNER, "csrf": "0" * 64})
    assert response.status == 403
    assert "The form had expired" in await response.text()
    # A token without the cookie it was made for (another site's post) is refused too.
    async with TestClient(TestServer(site.app)) as stranger:
        response = await stranger.post(path, data={**SIGNER, "csrf": token})
        assert response.status == 403
    assert rows(site, WebSignon) == []


async def test_the_honeypot_field_stops_robots(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    response = await post_form(client, path, website="http://spam.example")
    assert response.status == 400
    assert rows(site, WebSignon) == []


async def test_posts_are_limited_per_client_address(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    behind_proxy = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}  # the proxy adds the last
    for n in range(10):
        _, token = await fetch_form(client, path)
        response = await client.post(path, headers=behind_proxy,
                                     data={**SIGNER, "csrf": token, "org_name": f"Org {n}"})
        assert response.status == 200, n
    _, token = await fetch_form(client, path)
    response = await client.post(path, headers=behind_proxy,
                                 data={**SIGNER, "csrf": token, "org_name": "Org 11"})
    assert response.status == 429
    assert int(response.headers["Retry-After"]) > 3000
    assert "too often in the last hour" in await response.text()
    other = await client.post(path, headers={"X-Forwarded-For": "198.51.100.8"},
                              data={**SIGNER, "csrf": token, "org_name": "Org 12"})
    assert other.status == 200
    assert len(rows(site, WebSignon)) == 11


@pytest.mark.parametrize("how", ["close", "deadline", "page off"])
async def test_a_closed_statement_shows_closed_and_takes_nothing(site: WebBot, client: Client,
                                                                 how: str):
    path = await site.open_statement(SECRETARIAT)
    _, token = await fetch_form(client, path)
    if how == "close":
        await site.send("/statement close S1", user=SECRETARIAT)
    elif how == "deadline":
        site.advance(days=9)
    else:
        answer = await site.say("/statement web S1 off", user=SECRETARIAT)
        assert answer.startswith("S1's web page is closed")
    html, _ = await fetch_form(client, path)
    assert "<strong>Closed</strong>: this statement takes no more sign-ons." in html
    assert "<form" not in html
    response = await client.post(path, data={**SIGNER, "csrf": token})
    assert response.status == 403
    assert rows(site, WebSignon) == []


async def test_the_private_link_withdraws_and_tells_the_secretariat(site: WebBot,
                                                                    client: Client):
    path = await site.open_statement(SECRETARIAT)
    thanks = await (await post_form(client, path)).text()
    await site.send("/signon approve S1 1", user=SECRETARIAT)
    match = WITHDRAW.search(thanks)
    assert match
    link = match.group(1)
    confirm = await (await client.get(link)).text()
    assert "Withdraw the signature of Cairo Institute for Human Rights Studies from " \
           "“Letter on reprisals”?" in confirm
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', confirm)
    assert token
    done = await client.post(link, data={"csrf": token.group(1), "lang": "en"})
    assert done.status == 200
    assert "is withdrawn from this statement" in await done.text()
    notices = [reply.plain() for _, reply in site.queued()]
    assert notices[-1] == ("Web sign-on 1 for S1 withdrawn by its signer: Cairo Institute for "
                           "Human Rights Studies (Egypt).")
    [signature] = rows(site, Signature)
    assert (signature.withdrawn_by, signature.withdrawn_at) == ("web:1", site.now)
    [web] = rows(site, WebSignon)
    assert (web.status, web.signer_name, web.signer_email) == ("withdrawn", None, None)
    again = await client.post(link, data={"csrf": token.group(1)})
    assert again.status == 410
    html, _ = await fetch_form(client, path)
    assert "No organisation has signed yet." in html


async def test_unknown_addresses_answer_404(site: WebBot, client: Client):
    path = await site.open_statement(SECRETARIAT)
    for url in ("/s/not-a-token", f"{path}/withdraw/not-a-key", "/nothing/here"):
        response = await client.get(url)
        assert response.status == 404, url
        assert "There is no sign-on page at this address." in await response.text()


@pytest.mark.parametrize(("header", "query", "lang"), [
    ("es-ES,es;q=0.9,en;q=0.8", "", "es"),
    ("de-CH, fr;q=0.7, en;q=0.5", "", "fr"),
    ("fr;q=0, en", "", "en"),
    ("es", "?lang=fr", "fr"),
    ("", "?lang=xx", "en"),
])
async def test_the_language_comes_from_the_query_or_the_browser(site: WebBot, client: Client,
                                                                header: str, query: str,
                                                                lang: str):
    path = await site.open_statement(SECRETARIAT)
    response = await client.get(path + query, headers={"Accept-Language": header})
    assert f'<html lang="{lang}">' in await response.text()
    assert response.headers["Content-Language"] == lang


async def test_an_unlisted_web_signature_counts_and_is_never_printed(site: WebBot,
                                                                     client: Client):
    path = await site.open_statement(SECRETARIAT)
    await post_form(client, path, org_name="Quiet Voices", unlisted="yes")
    [(_, notice)] = site.queued()
    assert "Quiet Voices" not in notice.plain() and "Egypt" not in notice.plain()
    pending = await site.say("/signon pending S1", user=SECRETARIAT)
    assert "Quiet Voices" not in pending
    pending_dm = await site.say("/signon pending S1", user=SECRETARIAT, dm=True)
    assert "1: Quiet Voices (Egypt) — unlisted" in pending_dm
    await site.send("/signon approve S1 1", user=SECRETARIAT)
    html, _ = await fetch_form(client, path)
    assert "1 organisation from 1 country" in html
    assert "1 of them signed unlisted: counted, not named." in html
    assert "Quiet Voices" not in html


async def test_without_review_a_web_sign_on_signs_at_once(tmp_path: Path):
    site = WebBot(tmp_path, Network("matrix"), web={"review": False})
    try:
        async with TestClient(TestServer(site.app)) as client:
            path = await site.open_statement("matrix:@sec:example.org")
            thanks = await (await post_form(client, path)).text()
            assert "Cairo Institute for Human Rights Studies has signed “Letter on " \
                   "reprisals”." in thanks
            [(_, notice)] = site.queued()
            assert notice.plain() == ("New web sign-on for S1: Cairo Institute for Human "
                                      "Rights Studies (Egypt) signed. 1 organisation from 1 "
                                      "country so far.")
            html, _ = await fetch_form(client, path)
            assert "1 organisation from 1 country" in html
    finally:
        site.close()


async def test_what_people_type_is_shown_as_text_never_markup(site: WebBot, client: Client):
    await site.send(f"/role grant {SECRETARIAT} secretariat", user=site.admin)
    await site.send('/statement new "<b>Bold</b> & <script>x</script>"', user=SECRETARIAT)
    answer = await site.say("/statement web S1 on", user=SECRETARIAT)
    path = answer[answer.index("/s/"):].split()[0]
    html, _ = await fetch_form(client, path)
    assert "<h1>&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;</h1>" in html
    thanks = await (await post_form(client, path, org_name='<img src=x onerror="y">')).text()
    assert "<img" not in thanks and "&lt;img src=x onerror=&#34;y&#34;&gt;" in thanks
