"""Who may read or change a case, and from where: the one confidentiality rule.

A confidential case's country, summary, names and notes reach only the
secretariat and admins, and only in a direct message or a secure room; and
whoever reported it, in a direct message. Its real-name details reach only
the secretariat and admins.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.arguments import MAX_INT, Param
from bot.commands import CommandError, Private, Role
from bot.context import Context
from storage.cases import Case

MAX_TEXT = 4000


def may_see(ctx: Context, case: Case) -> bool:
    """The one confidentiality rule for reading a case: the secretariat in private, and
    whoever reported it in a direct message (she told us; nobody else reads a DM)."""
    return (not case.confidential or private_reader(ctx)
            or (ctx.room.is_direct and ctx.caller.id == case.reporter_id))


def private_reader(ctx: Context) -> bool:
    return ctx.caller.role >= Role.SECRETARIAT and ctx.room.private


def load(ctx: Context, number: int, *, write: bool = False) -> Case:
    """The case, or a refusal. ``write`` also checks the caller may change it, from here."""
    case = ctx.db.get(Case, number)
    if case is None:
        raise CommandError(f"There is no case #{number}.")
    ctx.subject = f"case:{number}"
    if write:
        guard_place(ctx, case)
        if not may_manage(ctx, case):
            raise CommandError(f"Only the reporter, the assignee or the secretariat can change "
                               f"#{number}.")
    return case


def guard_place(ctx: Context, case: Case) -> None:
    """What is typed about a confidential case must not be typed in an ordinary room."""
    if case.confidential and not ctx.room.private:
        raise CommandError(f"#{case.id} is confidential: send this in a direct message with me.")


def names_confidential_case(db: Session, arguments: str) -> bool:
    """Whether a command's first argument is a confidential case."""
    case = _named_case(db, arguments)
    return case is not None and case.confidential


def names_hidden_case(db: Session, arguments: str) -> bool:
    """Whether a command's words are about a confidential case, or no case at all: the
    text meant for a confidential case may follow a mistyped number."""
    case = _named_case(db, arguments)
    return case is None or case.confidential


def _named_case(db: Session, arguments: str) -> Case | None:
    first = arguments.split(maxsplit=1)[0].removeprefix("#") if arguments.strip() else ""
    # Past an INTEGER column no case exists, and PostgreSQL refuses to look one up.
    if not first.isascii() or not first.isdigit() or len(first) > 10 or int(first) > MAX_INT:
        return None
    return db.get(Case, int(first))


def may_manage(ctx: Context, case: Case) -> bool:
    return ctx.caller.role >= Role.SECRETARIAT or ctx.caller.id in (case.reporter_id,
                                                                    case.assignee_id)


def checked_text(value: str, what: str) -> str:
    if len(value) > MAX_TEXT:
        raise CommandError(f"The {what} is {len(value):,} characters; the limit is {MAX_TEXT:,}. "
                           "Shorten it, or add the rest as a note.")
    return value


CASE_NUMBER = Param("N", kind="int")


# Words about a confidential case stay on the side of the bridge they were typed on; so
# does free text whose case number names no case (it may be a typo of a confidential one).
HIDDEN = Private(when=names_confidential_case)
HIDDEN_TEXT = Private(when=names_hidden_case)
