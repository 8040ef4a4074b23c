"""Settings: environment variables ``LITCL_*`` over ``$LITCL_HOME/litcl.yaml`` over defaults.

``LITCL_HOME`` itself is read from the environment only (the YAML file lives inside it);
it defaults to ``~/.litcl``. Everything the embedded default keeps (launchpad file, JobStore,
launch directories, config files for the standard FireWorks commands) lives in that folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

SETTINGS_FILE_NAME = "litcl.yaml"


def default_home() -> Path:
    """The litcl home folder: ``$LITCL_HOME`` or ``~/.litcl``."""
    return Path(os.environ.get("LITCL_HOME") or Path.home() / ".litcl").expanduser().absolute()


class LitclSettings(BaseSettings):
    """Every setting of litcl_flows, with its source order env > YAML > default."""

    model_config = SettingsConfigDict(env_prefix="LITCL_", extra="forbid")

    home: Path = Field(
        default_factory=default_home,
        description="Folder holding the embedded launchpad and store and the config files.",
    )
    mode: Literal["embedded", "mongodb"] = Field(
        "embedded",
        description="'embedded': launchpad and JobStore in $LITCL_HOME, no server. "
        "'mongodb': a MongoDB server holds both (GridFS for large data).",
    )
    mongo_host: str = Field(
        "localhost", description="MongoDB host name, or a mongodb:// URI without credentials."
    )
    mongo_port: int = Field(27017, description="MongoDB port.")
    mongo_database: str = Field("litcl", description="Database holding launchpad and JobStore.")
    mongo_username: str | None = Field(None, description="MongoDB user (None: no auth).")
    mongo_password: SecretStr | None = Field(
        None, description="MongoDB password; prefer the LITCL_MONGO_PASSWORD variable."
    )
    mongo_authsource: str = Field("admin", description="Database that holds the user.")
    fworker_name: str = Field("litcl_local", description="Name of the FireWorks worker.")
    fworker_category: str = Field(
        "", description="FireWorks category this worker pulls ('' = any category)."
    )
    outputs_collection: str = Field("outputs", description="JobStore collection of job outputs.")
    data_collection: str = Field(
        "outputs_blobs", description="JobStore 'data' additional store (large arrays)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = default_home() / SETTINGS_FILE_NAME
        return (
            init_settings,
            env_settings,
            YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file),
        )

    # Paths derived from `home`: the layout documented in docs/configuration.md.
    @property
    def settings_file(self) -> Path:
        return self.home / SETTINGS_FILE_NAME

    @property
    def launchpad_db_file(self) -> Path:
        """The mongomock-persistence JSON file holding the embedded launchpad."""
        return self.home / "launchpad.json"

    @property
    def lock_file(self) -> Path:
        return self.home / "launchpad.lock"

    @property
    def store_dir(self) -> Path:
        """The MontyStore (sqlite) folder holding the embedded JobStore."""
        return self.home / "store"

    @property
    def launches_dir(self) -> Path:
        """Where `litcl run` starts each job in its own folder."""
        return self.home / "launches"

    @property
    def fw_config_file(self) -> Path:
        return self.home / "FW_config.yaml"

    @property
    def launchpad_file(self) -> Path:
        return self.home / "my_launchpad.yaml"

    @property
    def fworker_file(self) -> Path:
        return self.home / "my_fworker.yaml"

    @property
    def jobflow_config_file(self) -> Path:
        return self.home / "jobflow.yaml"


def load_settings(**overrides: object) -> LitclSettings:
    """Load settings from the environment and ``$LITCL_HOME/litcl.yaml``.

    Keyword arguments override both (they are what command-line flags set).
    """
    return LitclSettings(**overrides)
