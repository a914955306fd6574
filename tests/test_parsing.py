from __future__ import annotations

import pytest

from bot.parsing import QuoteError, normalise, split_command, tokenize

PREFIXES = ("/", "!")


def values(text: str) -> list[str]:
    return [t.value for t in tokenize(normalise(text))]


@pytest.mark.parametrize(("text", "name", "rest"), [
    ("/help", "help", ""),
    ("!help", "help", ""),
    ("/flag Egypt | lawyer arrested", "flag", "Egypt | lawyer arrested"),
    ("  /HELP   flag  ", "help", "flag"),
    ("/help@CaucusBot flag", "help", "flag"),
])
def test_split_command_accepts_both_prefixes_and_bot_suffix(text: str, name: str, rest: str):
    line = split_command(text, PREFIXES)
    assert line is not None
    assert (line.name, line.rest) == (name, rest)


def test_split_command_keeps_the_addressee():
    line = split_command("/help@OtherBot", PREFIXES)
    assert line is not None and line.addressee == "OtherBot"


@pytest.mark.parametrize("text", [
    "", "   ", "hello /help", "/", "!", "//help", "/ help", "#help", "?help",
    "/this_name_is_far_too_long_for_telegram_rules", "/hé",
])
def test_split_command_rejects_non_commands(text: str):
    assert split_command(text, PREFIXES) is None


def test_only_configured_prefixes_count():
    assert split_command("!help", ("/",)) is None


@pytest.mark.parametrize("mark", ["\u200f", "\u200e", "\u202b", "\u2067", "\u200b", "\ufeff",
                                  "\u2060"])
def test_direction_and_zero_width_marks_before_a_command_are_ignored(mark: str):
    line = split_command(f"{mark}/flag{mark} مصر | اعتقال محامٍ", PREFIXES)
    assert line is not None
    assert line.name == "flag"
    assert line.rest == "مصر | اعتقال محامٍ"


def test_persian_zero_width_non_joiner_survives():
    # ZWNJ is part of Persian spelling ("می‌خواهم"); it must not be stripped.
    assert values("می\u200cخواهم") == ["می\u200cخواهم"]


def test_smart_quotes_group_words():
    assert values("“Joint letter” deadline=2026-12-01") == ["Joint letter", "deadline=2026-12-01"]
    assert values("„Gemeinsame Erklärung“") == ["Gemeinsame Erklärung"]



def test_guillemets_are_text_not_quotes():
    """A name printed with guillemets keeps them: «Voices» is the organisation's spelling."""
    assert values("«Déclaration commune»") == ["«Déclaration", "commune»"]


def test_apostrophes_are_text_not_quotes():
    assert values("Egypt's lawyer didn't appear") == ["Egypt's", "lawyer", "didn't", "appear"]
    assert values("Egypt’s lawyer") == ["Egypt's", "lawyer"]


def test_phone_dashes_become_double_hyphens():
    assert normalise("/flag —confidential Egypt") == "/flag --confidential Egypt"
    assert normalise("/flag –confidential") == "/flag --confidential"
    # A dash used as punctuation between words is left alone.
    assert normalise("arrested — then released") == "arrested — then released"


def test_escaped_quote_inside_quotes():
    assert values(r'"He said \"stop\"" now') == ['He said "stop"', "now"]


def test_pipe_is_a_token_even_without_spaces():
    assert values("Egypt|lawyer arrested") == ["Egypt", "|", "lawyer", "arrested"]
    assert values('"a|b" | c') == ["a|b", "|", "c"]


def test_unbalanced_quote_raises():
    with pytest.raises(QuoteError):
        tokenize('"Joint letter deadline=2026-12-01')


def test_token_positions_point_into_the_text():
    text = 'one  "two three"  four'
    for tok in tokenize(text):
        assert text[tok.start:tok.end].strip('"') == tok.value


def test_empty_input():
    assert tokenize("") == []
    assert tokenize("   \t ") == []


def test_ten_thousand_characters_of_words():
    tokens = tokenize("word " * 2000)
    assert len(tokens) == 2000


def test_ten_thousand_characters_of_one_word():
    line = split_command("/help " + "x" * 10_000, PREFIXES)
    assert line is not None and len(line.rest) == 10_000


def test_control_characters_are_dropped_but_line_breaks_stay():
    assert normalise("a\x00b\x1b[31mc\x7f\x9b\r\nd\re") == "ab[31mc\nd\ne"
