"""A logged failure names its exception types and frames, never their messages."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from bot.failures import WITHHELD, traceback_without_messages
from storage.crypto import DataKeyError

SUMMARY = "Lawyer Yusra Malvecchi, +41 79 555 12 34"


def record_case(summary: str) -> None:
    try:
        raise KeyError(summary)
    except KeyError as exc:
        raise IntegrityError("INSERT INTO case", {"summary": summary}, exc) from exc


def test_the_chain_is_shown_by_type_and_frame_without_messages():
    try:
        record_case(SUMMARY)
    except IntegrityError as exc:
        shown = traceback_without_messages(exc)
    assert "Malvecchi" not in shown and "555" not in shown and "parameters" not in shown
    assert shown.index(f"KeyError: {WITHHELD}") < shown.index(
        f"sqlalchemy.exc.IntegrityError: {WITHHELD}")
    assert "in record_case" in shown and "which led to" in shown


def test_a_suppressed_context_is_left_out():
    try:
        try:
            raise KeyError("inner")
        except KeyError:
            raise ValueError("outer") from None
    except ValueError as exc:
        shown = traceback_without_messages(exc)
    assert "KeyError" not in shown and shown.endswith(f"ValueError: {WITHHELD}")


def test_a_data_key_error_says_what_to_do():
    try:
        raise DataKeyError("no data key is set: set CAUCUS_DATA_KEY")
    except DataKeyError as exc:
        shown = traceback_without_messages(exc)
    assert shown.endswith("storage.crypto.DataKeyError: no data key is set: set CAUCUS_DATA_KEY")
