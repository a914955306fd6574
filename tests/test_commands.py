"""The registry and argument grammar, without a database."""

from __future__ import annotations

from datetime import date

import pytest

from bot.arguments import SEP, Args, Option, Param
from bot.commands import Command, Registry, Role, UsageError
from bot.replies import Reply


async def noop(ctx, args: Args) -> Reply:  # type: ignore[no-untyped-def]
    return Reply.text("ok")


FLAG = Command("flag", noop, "Flag a case",
               params=(Param("country", kind="text"), SEP, Param("summary", kind="text"),
                       Param("tag", kind="tags")),
               flags=("confidential",), example="/flag Egypt | Lawyer arrested #detention")
STATEMENT_NEW = Command("statement", noop, "Start a statement", sub="new",
                        params=(Param("title", kind="text"),),
                        options=(Option("deadline", "YYYY-MM-DD"), Option("session", "HRC62"),
                                 Option("page", "N", kind="int")))
CASE = Command("case", noop, "Show a case", params=(Param("n", kind="int"),))
CASE_STATUS = Command("case", noop, "Change status", sub="status",
                      params=(Param("n", kind="int"), Param("status", choices=("new", "closed"))))


def test_usage_is_generated_from_the_grammar():
    assert FLAG.usage() == "/flag <country> | <summary> [#tag ...] [confidential]"
    assert STATEMENT_NEW.usage("!") == (
        "!statement new <title> [deadline=YYYY-MM-DD] [session=HRC62] [page=N]")
    assert CASE_STATUS.usage() == "/case status <n> <new|closed>"


def test_segments_text_and_trailing_tags():
    args = FLAG.parse("South Sudan | Lawyer  arrested at the airport #detention #Travel-Ban")
    assert args["country"] == "South Sudan"
    assert args["summary"] == "Lawyer  arrested at the airport"
    assert args["tag"] == ["detention", "travel-ban"]


def test_text_keeps_apostrophes_and_quotes_as_typed():
    args = FLAG.parse("Egypt | Defender's lawyer said \"no comment\"")
    assert args["summary"] == "Defender's lawyer said \"no comment\""


def test_a_single_quoted_text_is_unquoted():
    assert STATEMENT_NEW.parse('"Joint letter on Egypt" deadline=2026-12-01')["title"] == (
        "Joint letter on Egypt")


def test_options_anywhere_are_cut_out_of_text():
    args = STATEMENT_NEW.parse("Joint deadline=2026-12-01 letter session=HRC62")
    assert args["title"] == "Joint letter"
    assert args.options == {"deadline": "2026-12-01", "session": "HRC62"}


def test_line_breaks_in_text_survive():
    assert FLAG.parse("Egypt | first line\nsecond line")["summary"] == "first line\nsecond line"


def test_undeclared_key_value_is_plain_text():
    assert STATEMENT_NEW.parse("Ratio a=b")["title"] == "Ratio a=b"


def test_quoted_key_of_no_option_is_text():
    assert STATEMENT_NEW.parse('"Ratio a=b c"')["title"] == "Ratio a=b c"


@pytest.mark.parametrize("typed", ['session="HRC 62"', '"session=HRC 62"'])
def test_an_option_value_may_be_quoted(typed: str):
    args = STATEMENT_NEW.parse(f"Joint {typed} letter")
    assert args.options == {"session": "HRC 62"}
    assert args["title"] == "Joint letter"


def test_flags_accept_dashes():
    assert FLAG.parse("--confidential Egypt | x").flags == {"confidential"}
    assert FLAG.parse("Egypt | x confidential").flags == {"confidential"}
    assert FLAG.parse("Egypt | x #detention confidential").flags == {"confidential"}


@pytest.mark.parametrize("typed", ["Egypt | Defender arrested after leaking confidential "
                                   "documents #detention",
                                   "Confidential Sources Network country | x"])
def test_a_flag_word_inside_the_text_is_text(typed: str):
    args = FLAG.parse(typed)
    assert args.flags == frozenset()
    assert "onfidential" in args.values["country"] + (args.values.get("summary") or "")


def test_extra_separators_stay_in_the_last_text():
    assert FLAG.parse("Egypt | a | b")["summary"] == "a | b"


@pytest.mark.parametrize(("command", "text", "problem"), [
    (FLAG, "", "Missing <country>."),
    (FLAG, "Egypt", "Missing <summary>."),
    (FLAG, "Egypt |", "Missing <summary>."),
    (CASE, "", "Missing <n>."),
    (CASE, "abc", "<n> must be a whole number from 1 to 2147483647, not 'abc'."),
    (CASE, "99999999999999999999", "<n> must be a whole number from 1 to 2147483647, not "
                                   "'99999999999999999999'."),
    (CASE, "\u00b2", "<n> must be a whole number from 1 to 2147483647, not '\u00b2'."),
    (CASE, "\u0663", "<n> must be a whole number from 1 to 2147483647, not '\u0663'."),
    (CASE, "0", "<n> must be a whole number from 1 to 2147483647, not '0'."),
    (CASE, "3 4", "Unexpected '4'."),
    (CASE_STATUS, "3 reopened", "<status> must be one of: new, closed (not 'reopened')."),
    (STATEMENT_NEW, "x page=two", "page= must be a whole number from 1 to 2147483647, not "
                                  "'two'."),
    (STATEMENT_NEW, "x page=99999999999999999999", "page= must be a whole number from 1 to "
                                                   "2147483647, not '99999999999999999999'."),
    (STATEMENT_NEW, '"unclosed', 'A double quote (") is not closed.'),
])
def test_bad_input_says_what_was_wrong_and_shows_usage(command: Command, text: str,
                                                       problem: str):
    with pytest.raises(UsageError) as caught:
        command.parse(text)
    assert str(caught.value) == problem
    shown = caught.value.reply("/").plain()
    assert shown.startswith(problem)
    assert f"Usage: {command.usage()}" in shown


def test_case_number_accepts_hash():
    assert CASE.parse("#12")["n"] == 12
    assert CASE.parse("2147483647")["n"] == 2**31 - 1


def test_a_huge_number_is_refused_quickly_and_quoted_short():
    with pytest.raises(UsageError) as caught:
        CASE.parse("9" * 100_000)
    assert str(caught.value).startswith("<n> must be a whole number from 1 to 2147483647, not ")
    assert len(str(caught.value)) < 200


def test_registry_resolves_sub_commands_and_falls_back_to_base():
    registry = Registry([CASE, CASE_STATUS])
    assert registry.resolve("case", "status 3 new") == (CASE_STATUS, "3 new")
    assert registry.resolve("case", "STATUS 3 new")[0] is CASE_STATUS
    assert registry.resolve("case", "3") == (CASE, "3")


def test_group_without_base_lists_its_sub_commands():
    registry = Registry([STATEMENT_NEW])
    with pytest.raises(UsageError) as caught:
        registry.resolve("statement", "frobnicate")
    assert "'frobnicate' is not a sub-command of statement" in str(caught.value)
    assert "/statement new <title>" in str(caught.value)


@pytest.mark.parametrize(("command", "problem"), [
    (Command("Flag", noop, "x"), "does not fit Telegram"),
    (Command("a" * 33, noop, "x"), "does not fit Telegram"),
    (Command("flag-case", noop, "x"), "does not fit Telegram"),
    (Command("flag", noop, ""), "no help text"),
    (Command("case", noop, "x", sub="Note"), "lowercase word"),
    (Command("x", noop, "x", params=(Param("a", kind="text"), Param("b"))),
     "must end its segment"),
])
def test_registry_refuses_bad_entries(command: Command, problem: str):
    with pytest.raises(ValueError, match=problem):
        Registry([command])


def test_registry_refuses_duplicates():
    with pytest.raises(ValueError, match="registered twice"):
        Registry([CASE, CASE])


def test_suggestions_for_near_misses_only():
    registry = Registry([FLAG, CASE])
    assert registry.suggest("flg") == "flag"
    assert registry.suggest("important") is None


def test_roles_are_ordered():
    assert Role.GUEST < Role.MEMBER < Role.SECRETARIAT < Role.ADMIN


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"<day> must be a date like 2027-02-22, not '{text}'.") from None


DATED = Command("meet", noop, "Meet on a day", params=(Param("day", parse=_day),
                                                     Param("note", kind="text", optional=True,
                                                           parse=str.upper)))


def test_a_parameter_arrives_converted():
    args = DATED.parse("2027-02-22 bring the draft")
    assert args["day"] == date(2027, 2, 22) and args["note"] == "BRING THE DRAFT"
    assert DATED.parse("2027-02-22")["note"] is None  # an absent optional is not converted


def test_a_refused_value_says_why_with_the_usage():
    with pytest.raises(UsageError) as caught:
        DATED.parse("next-tuesday")
    text = caught.value.reply("!").plain()
    assert text.startswith("<day> must be a date like 2027-02-22, not 'next-tuesday'.")
    assert "Usage: !meet <day> [note]" in text


def test_a_line_is_read_once_with_its_words_and_converted_when_it_runs():
    registry = Registry([DATED])
    parsed = registry.read("meet", "2027-02-30")
    assert parsed.command is DATED and parsed.words is not None  # the words fit the grammar
    with pytest.raises(UsageError, match="not '2027-02-30'"):
        parsed.args()  # the value is refused only when it is converted
    broken = registry.read("meet", '"unclosed')
    assert broken.words is None and isinstance(broken.problem, UsageError)
