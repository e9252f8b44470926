"""How the store credits orders to messages: the windows after a touch, and the model."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from core.infra.setting_rows import read_setting, save_setting
from core.permissions import Actor

ATTRIBUTION_KEY = "attribution"


class Model(StrEnum):
    LAST_TOUCH = "last_touch"
    """The latest message the customer engaged with before the order gets it all."""
    FIRST_TOUCH = "first_touch"
    LINEAR = "linear"
    """Every message whose window holds the order gets an equal share."""


MODEL_LABELS = {
    Model.LAST_TOUCH: "Last touch",
    Model.FIRST_TOUCH: "First touch",
    Model.LINEAR: "Linear (shared equally)",
}


class AttributionSettings(BaseModel):
    click_window_days: int = Field(default=5, ge=1, le=30)
    """An order this many days after a click is credited to the message clicked."""
    view_window_days: int = Field(default=1, ge=0, le=7)
    """An order this many days after an email was opened, or a text delivered."""
    model: Model = Model.LAST_TOUCH

    @property
    def click_window(self) -> timedelta:
        return timedelta(days=self.click_window_days)

    @property
    def view_window(self) -> timedelta:
        return timedelta(days=self.view_window_days)


def get_attribution_settings(*, session: Session) -> AttributionSettings:
    return read_setting(session, ATTRIBUTION_KEY, AttributionSettings)


def save_attribution_settings(
    *, session: Session, actor: Actor, settings: AttributionSettings
) -> None:
    save_setting(session=session, actor=actor, key=ATTRIBUTION_KEY, value=settings)
