"""The sign-on page in a real browser: Debian's Chromium, driven by Playwright.

One browser for the module; each test gets its own server, database and browser
context. Flows run with JavaScript off (the pages have none and must not need any);
the accessibility check turns it on only to run axe-core in the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.web.conftest import Live


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    context: BrowserContext = browser.new_context(locale="fr-FR", java_script_enabled=False)
    yield context.new_page()
    context.close()


def fill_in_french(page: Page, org: str = "Institut du Caire pour les droits humains",
                   email: str = "ana@example.org") -> None:
    page.get_by_label("Nom de l'organisation, tel qu'il doit apparaître").fill(org)
    page.get_by_label("Pays où elle est basée").select_option(label="Égypte")
    page.get_by_label("Niveau d'action").select_option(label="Régional")
    page.get_by_label("Statut consultatif auprès de l'ECOSOC").select_option(
        label="Statut consultatif spécial")
    page.get_by_label("Votre nom").fill("Ana Signataire")
    page.get_by_label("Votre adresse e-mail").fill(email)
    page.get_by_label("Je suis autorisé·e à signer au nom de cette organisation").check()


def test_sign_in_french_approve_in_chat_and_see_the_total_rise(page: Page, live: Live):
    url = live.open_statement()
    page.goto(url)  # the browser asks for French (Accept-Language: fr-FR)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Letter on reprisals")
    expect(page.locator(".total")).to_have_text("Aucune organisation n'a encore signé.")
    fill_in_french(page)
    page.get_by_role("button", name="Signer la déclaration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci")
    expect(page.get_by_text("La signature de Institut du Caire pour les droits humains pour "
                            "« Letter on reprisals » est reçue.")).to_be_visible()
    expect(page.get_by_role("link", name="/withdraw/")).to_be_visible()
    assert live.chat("/signon approve S1 1") == (
        "Approved web sign-on 1: Institut du Caire pour les droits humains (Egypt) signed "
        "S1.\n1 organisation from 1 country so far.")
    page.get_by_role("link", name="Retour à la déclaration").click()
    expect(page.locator(".total")).to_have_text("1 organisation de 1 pays")
    expect(page.get_by_role("listitem").filter(has_text="Institut du Caire")).to_have_text(
        "Institut du Caire pour les droits humains (Égypte)")


def test_a_missing_field_then_a_duplicate(page: Page, live: Live):
    url = live.open_statement()
    page.goto(url)
    fill_in_french(page, email="")
    page.get_by_role("button", name="Signer la déclaration").click()
    email = page.get_by_label("Votre adresse e-mail")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Erreur : Ce champ est obligatoire.")
    expect(page.get_by_role("alert")).to_contain_text("1 point à corriger avant l'envoi")
    # What was typed is still there: only the e-mail is missing.
    expect(page.get_by_label("Nom de l'organisation, tel qu'il doit apparaître")).to_have_value(
        "Institut du Caire pour les droits humains")
    email.fill("ana@example.org")
    page.get_by_label("Je suis autorisé·e à signer au nom de cette organisation").check()
    page.get_by_role("button", name="Signer la déclaration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci")
    page.goto(url)
    fill_in_french(page, org="INSTITUT du Caire pour les droits-humains.")
    page.get_by_role("button", name="Signer la déclaration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Déjà reçue")
    expect(page.get_by_text("attend déjà la vérification du secrétariat")).to_be_visible()


def test_a_closed_statement_shows_closed_and_no_form(page: Page, live: Live):
    url = live.open_statement()
    live.chat("/statement close S1")
    page.goto(url)
    expect(page.get_by_text("cette déclaration n'accepte plus de signatures.")).to_be_visible()
    expect(page.get_by_role("button")).to_have_count(0)
    expect(page.locator("form")).to_have_count(0)


def test_the_withdrawal_link_withdraws_and_tells_the_secretariat(page: Page, live: Live):
    url = live.open_statement()
    page.goto(url)
    fill_in_french(page)
    page.get_by_role("button", name="Signer la déclaration").click()
    live.chat("/signon approve S1 1")
    page.get_by_role("link", name="/withdraw/").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retirer une signature")
    page.get_by_role("button", name="Retirer la signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retirée")
    notices = [reply.plain() for _, reply in live.bot.queued()]
    assert notices[-1] == ("Web sign-on 1 for S1 withdrawn by its signer: Institut du Caire "
                           "pour les droits humains (Egypt).")
    page.get_by_role("link", name="Retour à la déclaration").click()
    expect(page.locator(".total")).to_have_text("Aucune organisation n'a encore signé.")


def test_keyboard_alone_fills_and_sends_the_form(browser: Any, live: Live):
    url = live.open_statement()
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    page.goto(url)
    order = []
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        order.append(focused)
        if focused == "BUTTON":
            break
    fields = [f for f in order if f in ("org_name", "country", "level", "ecosoc", "unlisted",
                                        "signer_name", "signer_email", "authorised", "BUTTON")]
    assert fields == ["org_name", "country", "level", "ecosoc", "unlisted", "signer_name",
                      "signer_email", "authorised", "BUTTON"]  # the order they are read in
    assert "website" not in order  # the robots' field is never reached
    page.focus("#org_name")
    page.keyboard.type("Keyboard Collective")
    outline = page.eval_on_selector("#org_name", "e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"  # focus can be seen
    page.keyboard.press("Tab")
    page.keyboard.type("Kenya")  # a select takes the typed name
    for _ in range(4):  # level, ECOSOC status, unlisted, then the name
        page.keyboard.press("Tab")
    page.keyboard.type("Kim Keys")
    page.keyboard.press("Tab")
    page.keyboard.type("kim@example.org")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.get_by_text("The sign-on of Keyboard Collective")).to_be_visible()
    context.close()


@pytest.mark.parametrize(("lang", "every_page"), [("fr", True), ("en", False), ("es", False)])
def test_no_accessibility_violations(browser: Any, live: Live, lang: str, every_page: bool):
    """axe-core's WCAG 2.1 A and AA rules on the page, and in French on the page with
    errors and the thanks page too (the templates are the same in every language). Only
    here is JavaScript on, and the page's CSP bypassed, so that axe itself can run."""
    from axe_playwright_python.sync_playwright import Axe

    url = live.open_statement()
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                     "wcag21aa"]}}
    page.goto(f"{url}?lang={lang}")
    seen = []
    seen.append(axe.run(page, options=options))
    for result in seen if not every_page else ():
        assert result.violations_count == 0, result.generate_report()
    if not every_page:
        context.close()
        return
    page.get_by_role("button").click()  # everything missing: errors next to each field
    expect(page.locator(".error-summary")).to_be_visible()
    seen.append(axe.run(page, options=options))
    page.locator("#org_name").fill("Axe Org")
    page.locator("#country").select_option("KE")
    page.locator("#signer_name").fill("Ana")
    page.locator("#signer_email").fill("ana@example.org")
    page.locator("#authorised").check()
    page.get_by_role("button").click()
    expect(page.locator(".withdraw-link")).to_be_visible()
    seen.append(axe.run(page, options=options))
    for result in seen:
        assert result.violations_count == 0, result.generate_report()
    context.close()


def test_at_200_percent_zoom_nothing_scrolls_sideways(browser: Any, live: Live):
    """200% zoom on a 1280-pixel screen: 640 CSS pixels across, two device pixels each."""
    url = live.open_statement()
    context = browser.new_context(viewport={"width": 640, "height": 720},
                                  device_scale_factor=2, java_script_enabled=False)
    page = context.new_page()
    page.goto(url + "?lang=es")
    widths = page.evaluate("[document.documentElement.scrollWidth, "
                           "document.documentElement.clientWidth]")
    assert widths[0] <= widths[1]
    box = page.get_by_label("Nombre de la organización, tal como debe aparecer").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 640
    page.get_by_role("button", name="Firmar la declaración").click()  # reachable and usable
    expect(page.get_by_role("alert")).to_contain_text("cosas que corregir")
    context.close()
