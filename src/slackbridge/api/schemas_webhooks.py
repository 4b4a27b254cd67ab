"""Bodies of the API's ``/webhooks`` routes: endpoints and their signing secrets (never a
secret itself, except the new one a rotation answers with, once)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ["RotatedSecret", "SigningSecret", "WebhookEndpointInfo", "WebhookEndpointList"]


class SigningSecret(BaseModel):
    """A secret webhooks are signed with, by its fingerprint."""

    id: int | None = Field(description="null for the current secret; retire others by id")
    fingerprint: str = Field(examples=["sha256:3f9a0c1d2e4b"])
    current: bool = Field(description="the newest secret; the others are being retired")
    since: datetime | None = Field(description="when a previous secret was replaced")


class WebhookEndpointInfo(BaseModel):
    """A product webhook endpoint (its URL without credentials or query)."""

    id: int
    url: str = Field(examples=["https://***@product.example/hooks?***"])
    event_types: list[str] = Field(description="empty: every type except slack.event")
    synchronous: bool
    enabled: bool = Field(description="false once it is no longer configured")
    secrets: list[SigningSecret] = Field(description="every secret it signs with, current first")


class WebhookEndpointList(BaseModel):
    endpoints: list[WebhookEndpointInfo]


class RotatedSecret(BaseModel):
    """A rotation's result: the new secret, shown this once."""

    secret: str = Field(description="the new current secret (whsec_…): store it now")
    endpoint: WebhookEndpointInfo
