"""``/case erase``: remove a case for good, confirmed with a one-time code.

Erasure cannot be undone, so it takes two messages: the first answers with a
code bound to the caller and the case (``storage.erasure``), the second spends
it. Both only in a direct message or a secure room, where a case's number may
be talked about with its content. The audit trail keeps who erased which case
number, and nothing of what the case said.
"""

from __future__ import annotations

from bot.arguments import Args, Param
from bot.commands import Command, CommandError, Role
from bot.context import Context
from bot.replies import Reply, b, line
from handlers.case_access import load
from storage.erasure import CODE_LIFETIME, erase_case, issue_code, spend_code

MINUTES = int(CODE_LIFETIME.total_seconds() // 60)


async def erase(ctx: Context, args: Args) -> Reply:
    number: int = args["N"]
    if not ctx.room.private:
        raise CommandError("A case is erased only in a direct message with me or in a secure "
                           "room. Nothing was erased.")
    load(ctx, number)
    again = f"{ctx.cmd('case erase')} {number}"
    code = args.get("code")
    if code is None:
        code = issue_code(ctx.db, number, ctx.caller.id, now=ctx.now)
        return Reply.of(line(b(f"Erase case #{number} for good?"), " Its summary, tags, "
                             "timeline, consent and details go, with every message about it "
                             "the bot still keeps. This cannot be undone."),
                        f"To confirm, within {MINUTES} minutes, send: {again} {code}")
    if not spend_code(ctx.db, number, ctx.caller.id, code, now=ctx.now):
        raise CommandError(f"That code does not confirm erasing #{number}: it is wrong, used, "
                           f"older than {MINUTES} minutes or someone else's. Nothing was "
                           f"erased. Ask for a new code with {again}")
    erase_case(ctx.db, number)
    ctx.subject = None  # the case is gone; this answer is about its number alone
    ctx.audit("case.erase", f"#{number}")
    return Reply.of(line(b(f"Case #{number} erased."), " The audit trail keeps that you erased "
                         "it, and nothing of what it said. Messages already delivered to chat "
                         "rooms stay there: delete them in the rooms if they must go too."))


COMMANDS = [
    Command("case", erase, "Erase a case for good (asks for a one-time code)", sub="erase",
            params=(Param("N", kind="int"), Param("code", optional=True)),
            role=Role.SECRETARIAT, usage_text="<N> [code]", example="/case erase 12",
            details="Only in a direct message or a secure room. The first message answers "
                    f"with a code, valid {MINUTES} minutes for you and this case; send it "
                    "back to confirm."),
]
