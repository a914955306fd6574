"""Who people are and which role they hold: the one place roles are decided."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlmodel import Session, select

from storage.ids import native_of
from storage.models import Identity, RoleGrant
from storage.personal_data import ERASED_NAME, is_erased


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may. (Here, at the bottom, so
    that storage needs nothing from the layers above it.)"""

    GUEST = 0  # a direct message from someone never seen in an allowed room
    MEMBER = 1
    SECRETARIAT = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


GRANTABLE = {Role.SECRETARIAT}


def role_of(db: Session, user_id: str, *, admins: tuple[str, ...] | frozenset[str],
            in_allowed_room: bool) -> Role:
    """Admin from the config; else a granted role; else member if seen in an allowed room.

    A direct message from someone never seen in an allowed room is a guest:
    they may ask for help, nothing that reads or writes coalition records.
    """
    if user_id in admins:
        return Role.ADMIN
    grant = db.get(RoleGrant, user_id)
    if grant is not None:
        return Role[grant.role.upper()]
    if in_allowed_room:
        return Role.MEMBER
    identity = db.get(Identity, user_id)
    return Role.MEMBER if identity is not None and identity.is_member else Role.GUEST


def note_seen(db: Session, user_id: str, name: str, *, now: datetime, member: bool) -> bool:
    """Record that a person spoke; returns True when something changed."""
    identity = db.get(Identity, user_id)
    if identity is None:
        db.add(Identity(id=user_id, display_name=name, is_member=member,
                        first_seen=now, last_seen=now))
        return True
    changed = False
    if name and identity.display_name != name:
        identity.display_name, changed = name, True
    if member and not identity.is_member:
        identity.is_member, changed = True, True
    if changed:
        identity.last_seen = now
        db.add(identity)
    return changed


def grant(db: Session, user_id: str, role: Role, *, by: str, now: datetime) -> RoleGrant | None:
    """Grant ``role``; returns the previous grant, if any."""
    previous = db.get(RoleGrant, user_id)
    old = None if previous is None else RoleGrant.model_validate(previous.model_dump())
    if previous is None:
        db.add(RoleGrant(user_id=user_id, role=role.label, granted_by=by, granted_at=now))
    else:
        previous.role, previous.granted_by, previous.granted_at = role.label, by, now
        db.add(previous)
    return old


def revoke(db: Session, user_id: str) -> RoleGrant | None:
    existing = db.get(RoleGrant, user_id)
    if existing is not None:
        db.delete(existing)
    return existing


def grants(db: Session) -> list[RoleGrant]:
    return list(db.exec(select(RoleGrant).order_by(RoleGrant.user_id)))


def name_of(db: Session, user_id: str) -> str:
    if is_erased(user_id):
        return ERASED_NAME
    identity = db.get(Identity, user_id)
    return identity.display_name if identity is not None and identity.display_name else user_id


def describe(db: Session, user_id: str) -> str:
    """``Ana (matrix:@ana:srv)`` when we know a name, else the id alone."""
    if is_erased(user_id):
        return ERASED_NAME
    identity = db.get(Identity, user_id)
    if identity is None or not identity.display_name:
        return user_id
    return f"{identity.display_name} ({user_id})"


def find_identities(db: Session, query: str) -> list[Identity]:
    """People whose display name or id matches ``query`` (case-insensitive, exact)."""
    q = query.lstrip("@").casefold()
    people = db.exec(select(Identity)).all()
    return [p for p in people if p.display_name.casefold() == q or p.id.casefold() == q
            or native_of(p.id).lstrip("@").casefold() == q]
