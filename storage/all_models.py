"""Imports every table module so that SQLModel.metadata knows the whole schema.

Alembic and tests import this one module; a capability that adds tables adds
its import here.
"""

from storage.cases import Case, CaseEvent, CaseTag
from storage.models import AuditEntry, Identity, RoleGrant, RoomSetting
from storage.outbox import OutboxMessage
from storage.statements import OrgProfile, Signature, Statement, StatementRoom, StatementText

__all__ = ["AuditEntry", "Case", "CaseEvent", "CaseTag", "Identity", "OrgProfile",
           "OutboxMessage", "RoleGrant", "RoomSetting", "Signature", "Statement", "StatementRoom",
           "StatementText"]
