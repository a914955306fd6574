"""Platform-agnostic commands, one module per capability.

Each module exposes ``COMMANDS``: its registry entries. A handler is a plain
async function of (context, arguments) returning a Reply; nothing here imports
``telegram`` or ``nio``.
"""

from __future__ import annotations

from bot.commands import Command, Registry


def all_commands() -> list[Command]:
    from handlers import admin, bridge_status, calendar, case_erase, cases, reminders, statements
    from handlers import help as help_commands

    return [*help_commands.COMMANDS, *admin.COMMANDS, *cases.COMMANDS, *case_erase.COMMANDS,
            *statements.COMMANDS,
            *calendar.COMMANDS, *reminders.COMMANDS, *bridge_status.COMMANDS]


def build_registry() -> Registry:
    return Registry(all_commands())
