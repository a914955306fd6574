"""The sign-on form: what each field may hold, and the error shown next to it.

The same rules as ``/signon`` where they overlap: the name is printed as typed with
its spacing folded, an empty or invisible name is refused, and it may not be longer
than chat allows. Every field has a length limit, also given to the browser
(``maxlength``), so nothing is cut short silently. Error messages are catalog
strings (``N_``), translated where the page shows them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.web.i18n import N_, is_country
from storage.org_names import normalise_org_name
from storage.statements import ECOSOC, LEVELS
from storage.web_signons import Submission

LIMITS = {"org_name": 300, "signer_name": 200, "signer_email": 254}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
REQUIRED = N_("This field is required.")
# Filled in by robots that fill every field; people do not see it.
HONEYPOT = "website"


@dataclass
class FormResult:
    """The cleaned values (to show again in the form) and the errors, by field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    submission: Submission | None = None
    org_key: str = ""


def clean_text(value: str) -> str:
    """Spacing folded and control characters dropped, as chat does with what is typed."""
    kept = "".join(ch if unicodedata.category(ch) != "Cc" else " " for ch in value)
    return " ".join(kept.split())


def read_form(data: Mapping[str, str]) -> FormResult:
    result = FormResult()
    values, errors = result.values, result.errors
    for key in ("org_name", "signer_name", "signer_email"):
        values[key] = clean_text(data.get(key, ""))
    for key in ("country", "level", "ecosoc"):
        values[key] = data.get(key, "").strip()
    for key in ("unlisted", "authorised"):
        values[key] = "yes" if data.get(key) else ""
    for key, limit in LIMITS.items():
        if len(values[key]) > limit:
            errors[key] = N_("This is too long: keep it to %(limit)s characters.")
    org_key = normalise_org_name(values["org_name"])
    if "org_name" not in errors and not org_key:
        errors["org_name"] = (REQUIRED if not values["org_name"] else
                              N_("Write the organisation's name in letters or digits."))
    if not values["country"]:
        errors["country"] = N_("Choose the country where the organisation is based.")
    elif not is_country(values["country"]):
        errors["country"] = N_("Choose a country from the list.")
    if values["level"] and values["level"] not in LEVELS:
        errors["level"] = N_("Choose a level from the list.")
    if values["ecosoc"] and values["ecosoc"] not in ECOSOC:
        errors["ecosoc"] = N_("Choose an ECOSOC status from the list.")
    if not values["signer_name"]:
        errors.setdefault("signer_name", REQUIRED)
    if not values["signer_email"]:
        errors.setdefault("signer_email", REQUIRED)
    elif "signer_email" not in errors and not EMAIL.fullmatch(values["signer_email"]):
        errors["signer_email"] = N_("Write an e-mail address like name@example.org.")
    if not values["authorised"]:
        errors["authorised"] = N_("Only someone authorised to sign for the organisation may "
                                  "sign: tick this box to confirm you are.")
    if errors:
        return result
    result.org_key = org_key
    result.submission = Submission(
        org_name=values["org_name"], country=values["country"], level=values["level"] or None,
        ecosoc=values["ecosoc"] or None, unlisted=bool(values["unlisted"]),
        signer_name=values["signer_name"], signer_email=values["signer_email"])
    return result
