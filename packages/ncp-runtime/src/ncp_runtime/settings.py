"""The settings every service shares; each service subclasses with its own env prefix."""

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class FileValuesSource(PydanticBaseSettingsSource):
    """`<PREFIX><FIELD>_FILE=/path`: the field's value is the file's content, for the fields a service lists in
    `file_settings` (values that carry a credential, such as a database URL with its password). Kubernetes and
    compose then mount them as secret files instead of putting them in the environment."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ answers for every field at once

    def __call__(self) -> dict[str, Any]:
        prefix = str(self.config.get("env_prefix", "")).upper()
        environ = {k.upper(): v for k, v in os.environ.items()}
        values: dict[str, Any] = {}
        names: tuple[str, ...] = getattr(self.settings_cls, "file_settings", ())
        for name in names:
            variable = f"{prefix}{name.upper()}"
            path = environ.get(f"{variable}_FILE")
            if not path:
                continue
            if variable in environ:
                raise ValueError(f"set {variable} or {variable}_FILE, not both")
            try:
                values[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as error:
                raise ValueError(f"{variable}_FILE: cannot read {path}: {error.strerror}") from None
        return values


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None)
    # Fields that may also come from a file named by <PREFIX><FIELD>_FILE.
    file_settings: ClassVar[tuple[str, ...]] = ()

    env: Literal["dev", "test", "staging", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, FileValuesSource(settings_cls), dotenv_settings, file_secret_settings
