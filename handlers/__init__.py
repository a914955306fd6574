"""Platform-agnostic commands, one module per capability.

Each module exposes ``COMMANDS``: its registry entries. A handler is a plain
async function of (context, arguments) returning a Reply; nothing here imports
``telegram`` or ``nio``.
"""

from __future__ import annotations

from bot.commands import Command, Registry
from bot.features import Features


def all_commands() -> list[Command]:
    from handlers import (
        admin,
        bridge_status,
        calendar,
        case_erase,
        case_followup,
        case_reports,
        cases,
        indicators,
        moderation,
        pairing,
        rec_exports,
        recommendations,
        reminders,
        room_setup,
        signons,
        statement_exports,
        statements,
        web_signons,
    )
    from handlers import help as help_commands

    modules = (help_commands, admin, cases, case_followup, case_reports, case_erase, statements,
               signons, statement_exports, web_signons, calendar, reminders, bridge_status,
               pairing, room_setup, moderation, recommendations, rec_exports, indicators)
    return [command for module in modules for command in module.COMMANDS]


def build_registry() -> Registry:
    return Registry(all_commands())


def features() -> Features:
    """The commands and the hooks the runtime calls: its one way into the features."""
    from handlers.case_reports import stale_digest
    from handlers.history_notice import history_lost
    from handlers.indicators import monthly_digest
    from handlers.reminder_plan import render, replan
    from handlers.web_signons import notify_rooms

    return Features(
        registry=build_registry(), replan=replan, render_reminder=render,
        stale_digest=lambda db, now, days: stale_digest(db, now=now, stale_days=days),
        web_signon_notice=notify_rooms, monthly_indicators=monthly_digest,
        history_lost=history_lost)
