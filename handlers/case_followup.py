"""Following a case up: notes, status, referrals, public reactions, consent, names.

Every change lands on the case's timeline and in the audit trail; nothing said
about a case is overwritten.
"""

from __future__ import annotations

from bot.arguments import Args, Option, Param
from bot.commands import Command, CommandError, Private, Role, UsageError
from bot.context import Context
from bot.replies import Reply
from handlers.case_access import CASE_NUMBER, HIDDEN, HIDDEN_TEXT, checked_text, guard_place, load
from handlers.people import resolve_user
from storage import roles
from storage.cases import (
    CHANNELS,
    CLOSE_REASONS,
    CONSENT_SCOPES,
    STATUSES,
    UN_BODIES,
    UN_CHANNELS,
    CaseEvent,
    log_event,
)


async def note(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"])
    guard_place(ctx, case)  # any member may add a note, but not in the wrong place
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="note",
              text=checked_text(args["text"], "note"))
    ctx.audit("case.note", f"#{case.id}")
    return Reply.text(f"Note added to #{case.id}.")


async def unnote(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"])
    guard_place(ctx, case)
    event = ctx.db.get(CaseEvent, args["note"])
    if (event is None or event.case_id != case.id or event.kind != "note"
            or (event.actor_id != ctx.caller.id and ctx.caller.role < Role.SECRETARIAT)):
        # One answer whether it is missing or someone else's.
        raise CommandError(f"There is no note {args['note']} of yours on #{case.id}: only "
                           "whoever wrote a note, or the secretariat, can delete it.")
    ctx.db.delete(event)
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="unnote",
              value=str(args["note"]))
    ctx.audit("case.unnote", f"#{case.id}", f"note {args['note']}")
    return Reply.text(f"Note {args['note']} deleted from #{case.id}.")


async def set_status(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"], write=True)
    status, reason = args["status"], args.get("reason")
    if status == "closed":
        reason = (reason or "").lower().replace(" ", "-")
        if reason not in CLOSE_REASONS:
            raise UsageError(f"Closing needs a reason: {', '.join(CLOSE_REASONS)} — e.g. "
                             f"{ctx.cmd('case status')} {case.id} closed resolved")
    elif reason:
        raise UsageError(f"A reason goes only with closed; {status} takes none.")
    if case.status == status:
        raise CommandError(f"#{case.id} is already {status}.")
    previous = case.status
    case.status, case.close_reason = status, reason if status == "closed" else None
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="status", value=status,
              text=reason or "")
    ctx.audit("case.status", f"#{case.id}", f"{previous} → {status}")
    return Reply.text(f"#{case.id}: {previous} → {status}" + (f" ({reason})" if reason else "") +
                      ".")


async def escalate(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"], write=True)
    channel = args["channel"]
    if channel in UN_CHANNELS and "share-un" not in case.consent_scopes:
        raise CommandError(f"#{case.id} has no share-un consent, so it cannot go to {channel}. "
                           "Record the person's informed consent first: "
                           f"{ctx.cmd('case consent')} {case.id} share-un")
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="escalation",
              value=channel, text=args.get("note", ""))
    if STATUSES.index(case.status) < STATUSES.index("escalated"):
        case.status = "escalated"
    ctx.audit("case.escalate", f"#{case.id}", channel)
    return Reply.text(f"#{case.id} referred to {channel}; status {case.status}.")


async def public(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"], write=True)
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="public",
              text=checked_text(args["reaction"], "reaction"))
    if case.status != "closed":
        case.status = "public"
    ctx.audit("case.public", f"#{case.id}")
    warn = ("" if "publish-name" in case.consent_scopes else
            " No publish-name consent is recorded: make sure the reaction does not name the "
            "person.")
    return Reply.text(f"Public reaction recorded for #{case.id}; status {case.status}.{warn}")


async def assign(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"], write=True)
    user = resolve_user(ctx, args["user"])
    case.assignee_id = user
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="assign", value=user)
    ctx.audit("case.assign", f"#{case.id}", user)
    return Reply.text(f"#{case.id} assigned to {roles.describe(ctx.db, user)}.")


async def consent(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"], write=True)
    words = [w.lower() for w in args["scopes"]]
    withdraw = bool(words) and words[0] == "withdraw"
    scopes = words[1:] if withdraw else words
    unknown = [s for s in scopes if s not in CONSENT_SCOPES]
    if unknown or not (scopes or withdraw):
        raise UsageError(f"Consent scopes are: {', '.join(CONSENT_SCOPES)}"
                         + (f" (not {', '.join(unknown)})." if unknown else "."))
    current = set(case.consent_scopes)
    current = current - set(scopes or CONSENT_SCOPES) if withdraw else current | set(scopes)
    case.consent = ",".join(s for s in CONSENT_SCOPES if s in current)
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="consent",
              value=case.consent, text="withdrawn: " + ", ".join(scopes or ["all"])
              if withdraw else "confirmed: " + ", ".join(scopes))
    ctx.audit("case.consent", f"#{case.id}", case.consent or "none")
    return Reply.text(f"Consent for #{case.id} now: {case.consent.replace(',', ', ') or 'none'} "
                      f"(recorded by {ctx.caller.name or ctx.caller.id}, "
                      f"{ctx.local(ctx.now):%Y-%m-%d %H:%M}).")


async def un_details(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"], write=True)
    body, ref = args.opt("body"), args.opt("ref")
    if body is None and ref is None:
        raise UsageError("Give body=<UN body> and/or ref=<UN document>.")
    case.un_body = body or case.un_body
    case.un_reference = ref or case.un_reference
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="un",
              value=case.un_body or "", text=case.un_reference or "")
    # Which fields, never their values: a confidential case's UN file is confidential too.
    ctx.audit("case.un", f"#{case.id}", ", ".join(
        name for name, given in (("body", body), ("reference", ref)) if given))
    return Reply.text(f"#{case.id}: UN body {case.un_body or '—'}, reference "
                      f"{case.un_reference or '—'}.")


async def pseudonym(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"], write=True)
    case.pseudonym = args["name"]
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="pseudonym",
              text=case.pseudonym)
    ctx.audit("case.pseudonym", f"#{case.id}")
    return Reply.text(f"#{case.id} now calls the person \"{case.pseudonym}\" in chat.")


async def details(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"], write=True)
    if not ctx.room.private:
        raise CommandError("Confidential details go only in a direct message with me.")
    case.details = checked_text(args["text"], "details")
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="details")
    ctx.audit("case.details", f"#{case.id}")
    return Reply.text(f"Confidential details of #{case.id} saved. They are shown only to the "
                      "secretariat, in a direct message or a secure room.")


async def confidential(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"])
    on = args["state"] == "on"
    if case.confidential == on:
        raise CommandError(f"#{case.id} is already {'confidential' if on else 'not confidential'}.")
    case.confidential = on
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="confidential",
              value=args["state"])
    ctx.audit("case.confidential", f"#{case.id}", args["state"])
    return Reply.text(f"#{case.id} is {'now confidential' if on else 'no longer confidential'}.")


COMMANDS = [
    Command("case", note, "Add a note to a case's timeline", sub="note", private=HIDDEN_TEXT,
            params=(CASE_NUMBER, Param("text", kind="text")),
            example="/case note 12 Lawyer released"),
    Command("case", unnote, "Delete a note from a case's timeline", sub="unnote",
            private=HIDDEN, params=(CASE_NUMBER, Param("note", kind="int")),
            usage_text="<N> <note number>", example="/case unnote 12 31",
            details="The note number is shown in /case N's timeline (\"note 31: ...\"). "
                    "Whoever wrote the note, or the secretariat, can delete it; the timeline "
                    "keeps that a note was deleted, not what it said."),
    Command("case", set_status, "Move a case along new → verifying → verified → escalated → "
            "public → closed", sub="status", private=HIDDEN,
            params=(CASE_NUMBER, Param("status", choices=STATUSES),
                    Param("reason", kind="text", optional=True)),
            usage_text="<N> <status> [reason: " + "|".join(CLOSE_REASONS) + "]",
            example="/case status 12 closed resolved"),
    Command("case", escalate, "Record a referral and mark the case escalated", sub="escalate",
            private=HIDDEN_TEXT,
            params=(CASE_NUMBER, Param("channel", choices=CHANNELS),
                    Param("note", kind="text", optional=True)),
            example="/case escalate 12 special-procedures urgent appeal sent",
            details="UN channels (" + ", ".join(UN_CHANNELS) + ") need share-un consent."),
    Command("case", public, "Record a public reaction (press release, statement)", sub="public",
            private=HIDDEN_TEXT,
            params=(CASE_NUMBER, Param("reaction", kind="text")),
            example="/case public 12 https://example.org/joint-statement"),
    Command("case", assign, "Assign a case to someone (or me)", sub="assign", private=HIDDEN,
            params=(CASE_NUMBER, Param("user")), example="/case assign 12 me"),
    Command("case", consent, "Record the person's informed consent, or withdraw it",
            sub="consent", private=HIDDEN, params=(CASE_NUMBER, Param("scopes", kind="words")),
            usage_text="<N> [withdraw] <" + "|".join(CONSENT_SCOPES) + "> ...",
            example="/case consent 12 share-un sg-report",
            details="share-un: share with UN mechanisms; sg-report: include in the Secretary-"
                    "General's reprisals report; publish-name: name the person publicly."),
    Command("case", un_details, "Record the UN body engaged and a prior UN document", sub="un",
            private=HIDDEN,
            params=(CASE_NUMBER,),
            options=(Option("body", choices=UN_BODIES), Option("ref", "doc")),
            example="/case un 12 body=hrc ref=A/HRC/57/60"),
    Command("case", pseudonym, "Set the name used for the person in chat", sub="pseudonym",
            private=HIDDEN_TEXT,
            params=(CASE_NUMBER, Param("name", kind="text")),
            example='/case pseudonym 12 "Lawyer A"'),
    Command("case", details, "Save confidential details (real name, contacts); DM only",
            sub="details", params=(CASE_NUMBER, Param("text", kind="text")),
            private=Private(always=True)),
    Command("case", confidential, "Make a case confidential, or not", sub="confidential",
            params=(CASE_NUMBER, Param("state", choices=("on", "off"))), role=Role.SECRETARIAT,
            example="/case confidential 12 on"),
]
