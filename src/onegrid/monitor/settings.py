"""Settings of onegrid.monitor (the `monitor` section of the configuration)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class ReadAccess(StrEnum):
    """Who may read the dashboard's endpoints and `/metrics`.

    - `public`: everything, without a token (a grid on a private network).
    - `summaries`: aggregates (volumes, counts, CPU, link windows, productions) without a
      token; anything that names a job, a rule or a file needs one.
    - `authenticated`: every endpoint needs a token (Prometheus then scrapes with a bearer token).
    """

    PUBLIC = "public"
    SUMMARIES = "summaries"
    AUTHENTICATED = "authenticated"


class MonitorSettings(BaseModel):
    read_access: ReadAccess = Field(ReadAccess.SUMMARIES, description="who may read without a token")
    refresh_seconds: int = Field(10, ge=1, le=3600, description="how often the dashboard reloads its data")
    history_hours: int = Field(24, ge=1, le=24 * 90, description="span of the time series charts")
    bucket_minutes: int = Field(60, ge=1, le=24 * 60, description="width of one time-series bar")
    cpu_days: int = Field(30, ge=1, le=3650, description="finished jobs counted in the CPU charts")
    stuck_rule_hours: float = Field(2, gt=0, description="a rule replicating for longer is listed as stuck")
    list_limit: int = Field(100, ge=1, le=10_000, description="rows in failure, stuck-rule and job lists")
    country_attribute: str = Field("country", description="RSE attribute naming a country (else country_name)")
    site_type_attribute: str = Field("site_type", description="RSE attribute naming the site type")
