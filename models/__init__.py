"""Sokai's domain model: SQLAlchemy 2 typed models, one module per aggregate."""

from models.assembly import Assembly, AssemblyStatus, Quorum
from models.audit import AuditEntry
from models.base import Base, UnknownTimeZoneError, localized, utcnow, validate_timezone
from models.calendar import FeedState, FeedToken, ItemFragment, StoredFeed
from models.checkin import (
    Badge,
    BadgeJob,
    BadgeJobStatus,
    BadgeLayout,
    CheckIn,
    CheckInAction,
    CheckInEvent,
    StaffAssignment,
)
from models.decisions import (
    Decision,
    DecisionKind,
    DecisionMethod,
    DecisionStatus,
    Majority,
    Minutes,
    MinutesPoint,
    MinutesPointKind,
    MinutesSpeaker,
    Signatory,
    Vote,
    VoteChoice,
)
from models.delegation import (
    Delegate,
    DelegateRole,
    DelegateStatus,
    Delegation,
    DelegationStatus,
    participant_counts,
)
from models.invitation import Invitation, InvitationKind, InvitationState
from models.lease import Lease
from models.mail import MailStatus, OutboxMessage
from models.network import MemberCity, Network
from models.programme import ItemKind, ItemStatus, ProgrammeItem, Signup
from models.proxy import ACTIVE_PROXY_STATUSES, ProxyLetter, ProxyLetterEvent, ProxyStatus
from models.reminder import (
    Reminder,
    ReminderAnchor,
    ReminderAudience,
    ReminderDelivery,
    ReminderStatus,
)
from models.side_event import SideEvent, SideEventContribution, SideEventKind
from models.summary import (
    ACTIVE_SUMMARY_STATUSES,
    SUMMARY_FORMATS,
    SummaryJob,
    SummaryStatus,
)
from models.user import ApiToken, Role, User
from models.worker import Heartbeat, WorkerCheck

__all__ = [
    "AuditEntry", "Lease",
    "FeedState", "FeedToken", "ItemFragment", "StoredFeed",
    "ACTIVE_PROXY_STATUSES", "MailStatus", "OutboxMessage", "ProxyLetter", "ProxyLetterEvent",
    "ProxyStatus", "Signup",
    "ApiToken", "Assembly", "AssemblyStatus", "Base", "Delegate", "DelegateRole",
    "DelegateStatus", "Delegation", "DelegationStatus", "Heartbeat", "ItemKind", "ItemStatus",
    "MemberCity", "Network", "ProgrammeItem", "Quorum", "Role", "UnknownTimeZoneError", "User",
    "WorkerCheck", "localized", "participant_counts", "utcnow", "validate_timezone",
    "Reminder", "ReminderAnchor", "ReminderAudience", "ReminderDelivery", "ReminderStatus",
    "Invitation", "InvitationKind", "InvitationState",
    "ACTIVE_SUMMARY_STATUSES", "SUMMARY_FORMATS", "SideEvent", "SideEventContribution",
    "SideEventKind", "SummaryJob", "SummaryStatus",
    "Decision", "DecisionKind", "DecisionMethod", "DecisionStatus", "Majority", "Minutes",
    "MinutesPoint", "MinutesPointKind", "MinutesSpeaker", "Signatory", "Vote", "VoteChoice",
    "Badge", "BadgeJob", "BadgeJobStatus", "BadgeLayout", "CheckIn", "CheckInAction",
    "CheckInEvent", "StaffAssignment",
]
