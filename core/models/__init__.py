"""Every model, imported here so `Base.metadata` knows all tables."""

from core.models.audit import AuditEntry
from core.models.catalog import Category, Product
from core.models.customers import Customer
from core.models.events import Event
from core.models.jobs import Job, JobStatus
from core.models.orders import Order, OrderItem
from core.models.settings import Setting
from core.models.users import User

__all__ = [
    "AuditEntry",
    "Category",
    "Customer",
    "Event",
    "Job",
    "JobStatus",
    "Order",
    "OrderItem",
    "Product",
    "Setting",
    "User",
]
