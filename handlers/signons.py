"""Signing on to joint statements, from either network, into one list.

An organisation signs once per statement: the database refuses a second
active signature with the same normalised name. ``unlisted`` signatures count
but their names are never printed: organisations at risk sign without being
named.
"""

from __future__ import annotations

from bot.arguments import SEP, Args, Option, Param
from bot.commands import Command, CommandError, Private, Role, UsageError
from bot.context import Context
from bot.replies import Line, Reply, b, i, item, line
from handlers.countries import country_param, name_of
from handlers.statement_lookup import STATEMENT_ID, load_statement, sign_ons_closed
from handlers.when import stamp
from storage import roles
from storage.statements import (
    ECOSOC,
    LEVELS,
    OrgProfile,
    Signature,
    Statement,
    active_signature,
    active_signatures,
    counts,
    normalise_org_name,
    sign,
)

PAGE_SIZE = 50
MAX_NAME = 300


def _org_name(name: str) -> str:
    name = " ".join(name.split())
    if not normalise_org_name(name):
        raise UsageError("The organisation's name is empty.")
    if len(name) > MAX_NAME:
        raise CommandError(f"The organisation's name is {len(name)} characters; the limit is "
                           f"{MAX_NAME}.")
    return name


def _check_open(ctx: Context, statement: Statement) -> None:
    if statement.deadline is not None and ctx.now >= statement.deadline:
        raise CommandError(f"Sign-ons for {statement.code} closed at "
                           f"{stamp(statement.deadline, ctx.tz)}.")
    if statement.status != "open":
        deadline = (f" (deadline {stamp(statement.deadline, ctx.tz)})"
                    if statement.deadline else "")
        raise CommandError(f"{statement.code} is closed for sign-ons{deadline}.")


def totals(total: int, countries: int) -> str:
    return (f"{total} organisation{'s' if total != 1 else ''} from {countries} "
            f"countr{'ies' if countries != 1 else 'y'}")


async def signon(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    _check_open(ctx, statement)
    profile = ctx.db.get(OrgProfile, ctx.caller.id)
    name = args.get("organisation")
    if name is not None and name.casefold() == "unlisted":
        # Only "| unlisted" or "--unlisted" is the flag now; alone it would sign, listed, an
        # organisation called "unlisted".
        raise UsageError(f"To sign unlisted, type {ctx.cmd('signon')} {statement.code} "
                         "--unlisted (or put unlisted after the |).")
    if name is None and profile is None:
        raise UsageError(f"Which organisation? {ctx.cmd('signon')} {statement.code} "
                         f"<organisation>, or save yours once: {ctx.cmd('org set')} <name> | "
                         "<country>")
    # A name typed empty (or invisible) is refused, never read as "the saved one".
    name = _org_name(name if name is not None else profile.org_name)  # type: ignore[union-attr]
    from_profile = profile is not None and normalise_org_name(profile.org_name) == \
        normalise_org_name(name)
    country = (args["country"].code if args.get("country")
               else profile.country if from_profile and profile else None)
    signature = Signature(
        statement_id=statement.key, org_name=name, org_key=normalise_org_name(name),
        country=country,
        level=args.opt("level") or (profile.level if from_profile and profile else None),
        ecosoc=args.opt("ecosoc") or (profile.ecosoc if from_profile and profile else None),
        unlisted="unlisted" in args.flags, signed_by=ctx.caller.id, signed_in=ctx.room.id,
        text_version=statement.text_version, signed_at=ctx.now)
    row, created = sign(ctx.db, signature)
    if not created and _may_change(ctx, row) and _reconfirm(row, statement, args):
        ctx.audit("statement.reconfirm", statement.code,
                  "(unlisted)" if row.unlisted else row.org_name)
        return Reply.text(_reconfirmed(ctx, row, statement))
    if not created:
        if _may_know(ctx, row):
            return Reply.text(f"{row.org_name} already signed {statement.code} — by "
                              f"{roles.describe(ctx.db, row.signed_by)}, "
                              f"{stamp(row.signed_at, ctx.tz)}.")
        # The same words whether it signed listed or unlisted: no one learns which.
        return Reply.text(f"That organisation's signature on {statement.code} is already "
                          "recorded. Only whoever signed, or the secretariat, can change it.")
    ctx.audit("statement.signon", statement.code, "(unlisted)" if row.unlisted else row.org_name)
    where = f" ({name_of(country)})" if country else ""
    if row.unlisted and not ctx.room.private:
        # Everyone here reads the answer: it must not repeat the name it asks to delete.
        first = line(f"Signed {statement.code} unlisted: it counts, the name is never printed.")
    else:
        first = line(f"Signed {statement.code} for ", b(name), where,
                     " — unlisted: it counts, the name is never printed"
                     if row.unlisted else "", ".")
    lines: list[Line] = [first, line(f"{totals(*counts(ctx.db, statement.key))} so far.")]
    return Reply(tuple(lines))


async def withdraw(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    name = _org_name(args["organisation"])
    late = sign_ons_closed(statement, ctx.now)
    if late and ctx.caller.role < Role.SECRETARIAT:
        # Before looking the name up: the same answer whoever signed, or whether anyone did.
        raise CommandError(f"{statement.code} is closed: only the secretariat can withdraw a "
                           "signature now.")
    row = active_signature(ctx.db, statement.key, normalise_org_name(name))
    if row is None or (row.signed_by != ctx.caller.id and ctx.caller.role < Role.SECRETARIAT):
        # One answer whether it never signed or someone else signed it (perhaps unlisted),
        # and no name in it: the room reads the answer.
        raise CommandError(f"There is no signature of that organisation on {statement.code} "
                           "that you can withdraw: only whoever signed, or the secretariat, "
                           "can withdraw one.")
    row.withdrawn_at, row.withdrawn_by = ctx.now, ctx.caller.id
    ctx.db.add(row)
    ctx.audit("statement.withdraw", statement.code, ("(unlisted)" if row.unlisted else row.org_name)
              + (" (late: after the close)" if late else ""))
    remain = totals(*counts(ctx.db, statement.key))
    when = " after it closed (marked late)" if late else ""
    if not _may_know(ctx, row):
        return Reply.text(f"The signature is withdrawn from {statement.code}{when}; {remain} "
                          "remain.")
    return Reply.text(f"{row.org_name} withdrawn from {statement.code}{when}; {remain} remain.")


def _may_change(ctx: Context, row: Signature) -> bool:
    return row.signed_by == ctx.caller.id or ctx.caller.role >= Role.SECRETARIAT


def _reconfirm(row: Signature, statement: Statement, args: Args) -> list[str]:
    """Bring a signature to the current text and the ecosoc=/level= given; what changed.

    After ``/statement text`` a signatory re-confirms by signing again, and the hrc
    export asks signatories without a status to "re-sign with ecosoc=...".
    """
    changed = []
    if row.text_version != statement.text_version:
        row.text_version = statement.text_version
        changed.append("text")
    for key in ("level", "ecosoc"):
        if args.opt(key) is not None and getattr(row, key) != args.opt(key):
            setattr(row, key, args.opt(key))
            changed.append(f"{key}={args.opt(key)}")
    return changed


def _reconfirmed(ctx: Context, row: Signature, statement: Statement) -> str:
    extra = ", ".join(f"{key}={getattr(row, key)}" for key in ("level", "ecosoc")
                      if getattr(row, key))
    detail = f" ({extra})" if extra else ""
    if not _may_know(ctx, row):
        # An unlisted signature where the room reads the answer: neither its name nor
        # that it is unlisted.
        return (f"Re-confirmed the signature on {statement.code} on text version "
                f"{statement.text_version}{detail}.")
    return (f"Re-confirmed {statement.code} for {row.org_name} on text version "
            f"{statement.text_version}{detail}.")


def _may_know(ctx: Context, row: Signature) -> bool:
    """Whether the answer may say who signed: never of an unlisted signature where the
    whole room reads it, and only to whoever signed or the secretariat."""
    return ((row.signed_by == ctx.caller.id or ctx.caller.role >= Role.SECRETARIAT)
            and (not row.unlisted or ctx.room.private))


async def signatories(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    rows = active_signatures(ctx.db, statement.key)
    listed = sorted((s for s in rows if not s.unlisted), key=lambda s: s.org_name.casefold())
    unlisted = len(rows) - len(listed)
    page = args.opt("page", 1)
    pages = max(1, (len(listed) + PAGE_SIZE - 1) // PAGE_SIZE)
    if not 1 <= page <= pages:
        raise CommandError(f"Page {page} does not exist; there {'is' if pages == 1 else 'are'} "
                           f"{pages}.")
    header = f"{statement.code} \"{statement.title}\": {totals(*counts(ctx.db, statement.key))}"
    if unlisted:
        header += f" ({unlisted} unlisted, not named)"
    lines: list[Line] = [line(b(header + (f" — page {page} of {pages}" if pages > 1 else "")))]
    earlier = False
    for s in listed[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]:
        mark = "†" if s.text_version < statement.text_version else ""
        earlier = earlier or bool(mark)
        lines.append(item(s.org_name, f" ({name_of(s.country)})" if s.country else "", mark))
    if not rows:
        lines.append(line(i(f"Nobody yet. {ctx.cmd('signon')} {statement.code} <organisation>")))
    if earlier:
        lines.append(line(i("† signed an earlier version of the text")))
    if page < pages:
        lines.append(line(i(f"More: {ctx.cmd('signatories')} {statement.code} page={page + 1}")))
    return Reply(tuple(lines))


async def org(ctx: Context, args: Args) -> Reply:
    profile = ctx.db.get(OrgProfile, ctx.caller.id)
    if profile is None:
        return Reply.text(f"No organisation saved. {ctx.cmd('org set')} <name> | <country> "
                          "level=... ecosoc=...")
    return Reply.text(_profile_text(profile))


def _profile_text(profile: OrgProfile) -> str:
    parts = [profile.org_name]
    if profile.country:
        parts.append(name_of(profile.country))
    if profile.level:
        parts.append(f"level {profile.level}")
    if profile.ecosoc:
        parts.append(f"ECOSOC {profile.ecosoc}")
    return "You sign for: " + " · ".join(parts)


async def org_set(ctx: Context, args: Args) -> Reply:
    name = _org_name(args["name"])
    country = args["country"].code if args.get("country") else None
    profile = ctx.db.get(OrgProfile, ctx.caller.id) or OrgProfile(user_id=ctx.caller.id,
                                                                   org_name=name)
    profile.org_name, profile.country = name, country
    profile.level, profile.ecosoc = args.opt("level"), args.opt("ecosoc")
    ctx.db.add(profile)
    # The fields only: the name may be one its owner signs unlisted with.
    ctx.audit("org.set", ctx.caller.id, ", ".join(
        ["name", *(f for f, v in (("country", country), ("level", profile.level),
                                  ("ecosoc", profile.ecosoc)) if v)]))
    return Reply.text(_profile_text(profile) + ". Now /signon <id> alone signs for it."
                      .replace("/", ctx.prefix))


COMMANDS = [
    Command("signon", signon, "Sign a statement for your organisation",
            params=(STATEMENT_ID, Param("organisation", kind="text", optional=True), SEP,
                    country_param(optional=True)),
            options=(Option("level", choices=LEVELS), Option("ecosoc", choices=ECOSOC)),
            flags=("unlisted",), private=Private(flags=("unlisted",)),
            example='/signon S3 "Cairo Institute for Human Rights Studies" | Egypt '
                    "level=regional ecosoc=special",
            details="unlisted: the signature counts but the name is never printed.\n"
                    "With /org set saved, /signon S3 alone signs for your organisation."),
    Command("withdraw", withdraw, "Withdraw an organisation's signature",
            params=(STATEMENT_ID, Param("organisation", kind="text")),
            # Always, so that whether it stays cannot tell who signed unlisted.
            private=Private(always=True),
            example='/withdraw S3 "Cairo Institute for Human Rights Studies"'),
    Command("signatories", signatories, "List who signed, alphabetically",
            params=(STATEMENT_ID,), options=(Option("page", "N", kind="int"),),
            example="/signatories S3", read_only=True),
    Command("org", org, "Show the organisation you sign for", read_only=True),
    Command("org", org_set, "Save your organisation's details for quick sign-ons", sub="set",
            params=(Param("name", kind="text"), SEP, country_param(optional=True)),
            options=(Option("level", choices=LEVELS), Option("ecosoc", choices=ECOSOC)),
            example='/org set "Gulf Centre for Human Rights" | Lebanon level=regional '
                    "ecosoc=special"),
]
