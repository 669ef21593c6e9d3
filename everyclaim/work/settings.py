"""Work-queue settings, validated (pydantic), from the environment (``EVERYCLAIM_*``) or defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, Field, ValidationError

from everyclaim.work.errors import Invalid

PREFIX = "EVERYCLAIM_"


class WorkSettings(BaseModel, frozen=True):
    write_off_approval_threshold_cents: int = Field(
        50_000, ge=0, description="Write-offs above this amount (cents) wait for a manager; refunds always do.")
    lease_minutes: int = Field(
        30, ge=1, description="A claimed item nobody touched for this long goes back to the queue.")
    login_max_failures: int = Field(10, ge=1, description="Failed logins in a row before the account locks.")
    lockout_minutes: int = Field(15, ge=1, description="How long a locked account stays locked.")
    min_password_length: int = Field(10, ge=8, description="Shortest password accepted.")
    holidays: str = Field(
        "us_federal", description="Days off besides weekends for SOP business days: a built-in calendar "
        "(us_federal), the path of a CSV file (date,name) or none.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkSettings:
        """Settings from ``EVERYCLAIM_<FIELD>`` variables (upper case); unset fields keep their default."""
        env = os.environ if env is None else env
        values = {name: env[PREFIX + name.upper()] for name in cls.model_fields if PREFIX + name.upper() in env}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            bad = ", ".join(f"{PREFIX}{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors())
            raise Invalid(f"bad setting {bad}") from None
