"""Settings for one Nimbus server, from command-line flags with environment fallbacks.

Bedrock model backends: ``NIMBUS_BEDROCK_MODELS`` names a JSON/TOML file of routes from model
ids to backends (see nimbus/services/bedrock/backends/config.py); without it Nimbus looks for
``bedrock-models.toml`` or ``.json`` in the data directory. ``NIMBUS_BEDROCK_TOKEN_DELAY_MS``
slows the built-in offline model down to that many milliseconds per output token.

Test-only knob read by the events service: ``NIMBUS_SCHEDULE_SPEEDUP`` (default 1) makes the
scheduler's clock run that many times faster, so at 60 a ``rate(1 minute)`` rule fires every
second. Never set it for real use: scheduled event times then drift ahead of the wall clock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ACCOUNT_ID = "000000000000"


@dataclass(slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = Path(".nimbus")
    region: str = "us-east-1"
    account_id: str = ACCOUNT_ID
    #: where ``nimbus up`` finds the bundled apps (None: the repository's ``apps/`` folder)
    apps_dir: Path | None = None

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls) -> Settings:
        apps_dir = os.environ.get("NIMBUS_APPS_DIR")
        return cls(
            host=os.environ.get("NIMBUS_HOST", "127.0.0.1"),
            port=int(os.environ.get("NIMBUS_PORT", "4566")),
            data_dir=Path(os.environ.get("NIMBUS_DATA_DIR", ".nimbus")),
            region=os.environ.get(
                "NIMBUS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
            ),
            apps_dir=Path(apps_dir) if apps_dir else None,
        )


BEDROCK_MODELS_ENV = "NIMBUS_BEDROCK_MODELS"


def bedrock_models_path(data_dir: Path) -> Path | None:
    """Where the Bedrock model-to-backend routes live: ``NIMBUS_BEDROCK_MODELS``, else
    ``bedrock-models.toml`` / ``.json`` in the data directory; None when there are none."""
    explicit = os.environ.get(BEDROCK_MODELS_ENV)
    if explicit:
        return Path(explicit).expanduser()
    for name in ("bedrock-models.toml", "bedrock-models.json"):
        if (data_dir / name).is_file():
            return data_dir / name
    return None
