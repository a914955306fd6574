"""Imports every table module so that SQLModel.metadata knows the whole schema.

Alembic and tests import this one module; a capability that adds tables adds
its import here.
"""

from storage.calendar import Deadline, DeadlineTemplate, HrcSession
from storage.cases import Case, CaseEvent, CaseTag
from storage.erasure import ErasureCode
from storage.inbound import InboundSeen, ResumePoint
from storage.links import MessageLink
from storage.models import AuditEntry, Identity, RoleGrant, RoomSetting
from storage.outbox import OutboxMessage
from storage.recommendations import RecAssessment, RecCaseLink, Recommendation, RecStatementLink
from storage.reminders import Reminder
from storage.rooms import ChatRoom, PairingCode
from storage.statements import OrgProfile, Signature, Statement, StatementRoom, StatementText
from storage.web_signons import WebSignon

__all__ = ["AuditEntry", "Case", "CaseEvent", "CaseTag", "ChatRoom", "Deadline",
           "DeadlineTemplate", "ErasureCode", "HrcSession", "Identity", "InboundSeen",
           "MessageLink", "OrgProfile", "OutboxMessage", "PairingCode", "RecAssessment",
           "RecCaseLink", "RecStatementLink", "Recommendation", "Reminder",
           "ResumePoint", "RoleGrant", "RoomSetting", "Signature", "Statement", "StatementRoom",
           "StatementText", "WebSignon"]
