"""Every model, imported here so `Base.metadata` knows all tables."""

from core.models.audit import AuditEntry
from core.models.catalog import Category, Product
from core.models.customers import ConsentRecord, Customer
from core.models.events import Event
from core.models.imports import Import, ImportKind, ImportProblem, ImportStatus
from core.models.jobs import Job, JobStatus
from core.models.orders import Order, OrderItem
from core.models.segments import Segment, SegmentMember
from core.models.settings import Setting
from core.models.users import User

__all__ = [
    "AuditEntry",
    "Category",
    "ConsentRecord",
    "Customer",
    "Event",
    "Import",
    "ImportKind",
    "ImportProblem",
    "ImportStatus",
    "Job",
    "JobStatus",
    "Order",
    "OrderItem",
    "Product",
    "Segment",
    "SegmentMember",
    "Setting",
    "User",
]
