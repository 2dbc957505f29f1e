"""Settings: environment variables `ONEGRID_*` and an optional TOML file.

Precedence, highest first: explicit arguments, environment, the TOML file (`--config` or
`ONEGRID_CONFIG`), defaults. Nested sections use `__` in the environment
(`ONEGRID_IAM__ACCESS_TOKEN_LIFETIME=1800`). Each subsystem owns its section's model.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from onegrid.catalog.settings import CatalogSettings
from onegrid.errors import InvalidInput
from onegrid.iam.settings import IamSettings
from onegrid.monitor.settings import MonitorSettings
from onegrid.storage.settings import StorageSettings
from onegrid.transfers.settings import TransferSettings
from onegrid.wms.settings import WmsSettings


def default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "onegrid"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ONEGRID_", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    server_url: str = Field(
        "http://127.0.0.1:8080", description="public URL of the server; also the token issuer"
    )
    log_level: str = "INFO"

    iam: IamSettings = Field(default_factory=IamSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    transfers: TransferSettings = Field(default_factory=TransferSettings)
    wms: WmsSettings = Field(default_factory=WmsSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)

    @field_validator("server_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'onegrid.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        if settings_cls.model_config.get("toml_file"):
            sources += (TomlConfigSettingsSource(settings_cls),)
        return sources


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from `overrides`, the environment and the TOML file, in that order; a bad
    value is an `InvalidInput` naming the setting."""
    try:
        return _load_settings(config_file, **overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        raise InvalidInput(f"setting {where}: {err['msg']} (got {err.get('input')!r})") from None


def _load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    path = config_file or os.environ.get("ONEGRID_CONFIG")
    if not path:
        return Settings(**overrides)
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"config file {path} does not exist")
    try:
        tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"config file {path} is not valid TOML: {exc}") from exc

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    return Settings.model_validate(_FileSettings(**overrides).model_dump())
