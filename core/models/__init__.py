"""Every model, imported here so `Base.metadata` knows all tables."""

from core.models.abtests import ABTest, ABVariant, Metric, TestStatus
from core.models.analytics import AnalyticsSnapshot
from core.models.audit import AuditEntry
from core.models.campaigns import (
    Action,
    ActionStatus,
    Audience,
    Campaign,
    CampaignResult,
    CampaignStatus,
    CampaignStep,
    CampaignType,
    PlanCache,
    PlanSource,
    StepStatus,
)
from core.models.catalog import Category, Product
from core.models.customers import (
    Channel,
    ConsentRecord,
    ContactStatus,
    Customer,
    SmsSignup,
)
from core.models.events import Event, WebhookToken
from core.models.imports import Import, ImportKind, ImportProblem, ImportStatus
from core.models.jobs import Job, JobStatus
from core.models.messages import (
    Message,
    MessageStatus,
    Suppression,
    SuppressionReason,
    Template,
)
from core.models.orders import Order, OrderItem
from core.models.segments import Segment, SegmentKind, SegmentMember
from core.models.settings import Setting
from core.models.users import EndReason, SignInFailure, User, UserSession

__all__ = [
    "ABTest",
    "ABVariant",
    "Action",
    "ActionStatus",
    "AnalyticsSnapshot",
    "Audience",
    "AuditEntry",
    "Campaign",
    "CampaignResult",
    "CampaignStatus",
    "CampaignStep",
    "CampaignType",
    "Category",
    "Channel",
    "ConsentRecord",
    "ContactStatus",
    "Customer",
    "EndReason",
    "Event",
    "Import",
    "ImportKind",
    "ImportProblem",
    "ImportStatus",
    "Job",
    "JobStatus",
    "Message",
    "MessageStatus",
    "Metric",
    "Order",
    "OrderItem",
    "PlanCache",
    "PlanSource",
    "Product",
    "Segment",
    "SegmentKind",
    "SegmentMember",
    "Setting",
    "SignInFailure",
    "SmsSignup",
    "StepStatus",
    "Suppression",
    "SuppressionReason",
    "Template",
    "TestStatus",
    "User",
    "UserSession",
    "WebhookToken",
]
