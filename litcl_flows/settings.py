"""Settings: environment variables ``LITCL_*`` over ``$LITCL_HOME/litcl.yaml`` over defaults.

``LITCL_HOME`` itself is read from the environment only (the YAML file lives inside it);
it defaults to ``~/.litcl``. Everything the embedded default keeps (launchpad file, JobStore,
launch directories, config files for the standard FireWorks commands) lives in that folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import yaml
from pydantic import Field, SecretStr, ValidationError, model_validator
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
        "localhost",
        description="MongoDB host name or mongodb:// URI; credentials in a URI are moved to "
        "mongo_username and mongo_password, so the password is never written with the host.",
    )
    mongo_port: int = Field(27017, ge=1, le=65535, description="MongoDB port.")
    mongo_database: str = Field("litcl", description="Database holding launchpad and JobStore.")
    mongo_username: str | None = Field(None, description="MongoDB user (None: no auth).")
    mongo_password: SecretStr | None = Field(
        None, description="MongoDB password; prefer the LITCL_MONGO_PASSWORD variable."
    )
    mongo_authsource: str = Field("admin", description="Database that holds the user.")
    mongo_tls: bool = Field(False, description="Connect to MongoDB over TLS.")
    mongo_tls_ca_file: str | None = Field(
        None, description="CA bundle for TLS (default: the system's)."
    )
    mongo_timeout_s: float = Field(
        3.0,
        gt=0,
        allow_inf_nan=False,
        description="Seconds to find the MongoDB server before a command fails (pymongo's "
        "serverSelectionTimeoutMS, written into the config files too; pymongo's own: 30).",
    )
    store_password: bool = Field(
        True,
        description="Write the MongoDB password into my_launchpad.yaml and jobflow.yaml, mode "
        "0600: the one place every entry point reads it (litcl, bare FireWorks commands, queue "
        "jobs, notebooks). False: only litcl commands given LITCL_MONGO_PASSWORD connect.",
    )
    fworker_name: str = Field("litcl_local", description="Name of the FireWorks worker.")
    fworker_category: str = Field(
        "", description="FireWorks category this worker pulls ('' = any category)."
    )
    cluster: Literal["none", "slurm", "pbspro"] = Field(
        "none", description="Batch system the queue adapters are written for."
    )
    queue: str | None = Field(None, description="Queue (PBS) or partition (Slurm).")
    account: str | None = Field(None, description="Allocation charged for queue jobs.")
    walltime: str = Field("24:00:00", description="Walltime of one queue job, HH:MM:SS.")
    nodes: int = Field(1, ge=1, description="Nodes per queue job.")
    cpus_per_node: int = Field(64, ge=1, description="MPI ranks (cores) used per node.")
    gpus_per_node: int = Field(
        0, ge=0, description="GPUs per node; > 0 adds a GPU worker for dp train and lmp."
    )
    pbs_filesystems: str | None = Field(
        None, description="PBS Pro '-l filesystems=' value, e.g. home:eagle (Polaris)."
    )
    queue_template_file: str | None = Field(
        None, description="Own FireWorks queue template instead of litcl's / FireWorks' stock one."
    )
    pre_rocket: str = Field(
        "", description="Shell lines run first in every queue job (module loads, ...)."
    )
    venv: str | None = Field(
        None,
        description="Python environment that queue jobs activate (default: the one running "
        "litcl, if any).",
    )
    vasp_cmd: str = Field("vasp_std", description="VASP launch command, e.g. 'srun vasp_std'.")
    lmp_cmd: str = Field("lmp", description="LAMMPS launch command, e.g. 'srun -n 64 lmp'.")
    dp_cmd: str = Field("dp", description="DeePMD-kit command, e.g. 'dp' or 'srun -n 1 dp'.")
    outputs_collection: str = Field("outputs", description="JobStore collection of job outputs.")
    data_collection: str = Field(
        "outputs_blobs", description="JobStore 'data' additional store (large arrays)."
    )

    @model_validator(mode="after")
    def _credentials_out_of_host(self) -> LitclSettings:
        # A URI's user:password would be persisted with the host into litcl.yaml and the
        # FireWorks/jobflow files; carried separately, the password follows mongo_password's
        # rule (environment only unless store_password) and pymongo gets it as a keyword.
        parts = urlsplit(self.mongo_host)
        if not parts.scheme.startswith("mongodb") or "@" not in parts.netloc:
            return self
        userinfo, _, hosts = parts.netloc.rpartition("@")
        user, has_password, password = (unquote(part) for part in userinfo.partition(":"))
        if self.mongo_username not in (None, user):
            raise ValueError(
                f"the host URI's user {user!r} differs from mongo_username "
                f"{self.mongo_username!r}; give the user once"
            )
        given = self.mongo_password.get_secret_value() if self.mongo_password else None
        if has_password and given not in (None, password):
            raise ValueError(
                "the host URI's password differs from LITCL_MONGO_PASSWORD; give it once"
            )
        self.mongo_username = user or None
        if has_password:
            self.mongo_password = SecretStr(password)
        self.mongo_host = urlunsplit(parts._replace(netloc=hosts))
        return self

    @model_validator(mode="after")
    def _stored_password(self) -> LitclSettings:
        # The password's home on disk is my_launchpad.yaml (0600), which FireWorks and
        # jobflow read too: litcl reads it there when the environment does not give it.
        if self.mode != "mongodb" or not self.mongo_username or self.mongo_password:
            return self
        try:
            stored = yaml.safe_load(self.launchpad_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            return self
        if not isinstance(stored, dict) or stored.get("username") != self.mongo_username:
            return self
        if password := stored.get("password"):
            self.mongo_password = SecretStr(str(password))
        return self

    @model_validator(mode="after")
    def _cluster_needs_mongodb(self) -> LitclSettings:
        if self.cluster != "none":
            if self.mode != "mongodb":
                raise ValueError(
                    "queue workers on compute nodes need mode 'mongodb' (the embedded "
                    "launchpad serves one process on one machine)"
                )
            from litcl_flows.store.cluster import walltime_seconds

            walltime_seconds(self.walltime, self.cluster)
        return self

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

    @property
    def atomate2_config_file(self) -> Path:
        return self.home / "atomate2.yaml"

    @property
    def qadapter_file(self) -> Path:
        return self.home / "my_qadapter.yaml"

    @property
    def gpu_fworker_file(self) -> Path:
        return self.home / "my_fworker_gpu.yaml"

    @property
    def gpu_qadapter_file(self) -> Path:
        return self.home / "my_qadapter_gpu.yaml"


class SettingsError(ValueError):
    """Settings that cannot be used; the message is one line naming the setting."""


def load_settings(**overrides: object) -> LitclSettings:
    """Load settings from the environment and ``$LITCL_HOME/litcl.yaml``.

    Keyword arguments override both (they are what command-line flags set). Raises
    :class:`SettingsError` with one line naming the offending setting.
    """
    try:
        return LitclSettings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(
            f"{f'setting {where}' if where else 'settings'}: {message} "
            f"(see {default_home() / SETTINGS_FILE_NAME})"
        ) from None
