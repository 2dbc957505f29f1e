"""All tables of all subsystems, for migrations and schema checks."""

from __future__ import annotations

import onegrid.catalog.rules.tables
import onegrid.catalog.tables
import onegrid.iam.tables
import onegrid.transfers.tables
import onegrid.wms.tables  # noqa: F401
from onegrid.db.base import Base

metadata = Base.metadata
