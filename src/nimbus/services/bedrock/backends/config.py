"""The ``bedrock-models`` config: which backend serves which model id.

A JSON or TOML file (path in ``NIMBUS_BEDROCK_MODELS``, else ``bedrock-models.toml`` /
``bedrock-models.json`` in the data directory) with a list of routes, first match wins;
model ids no route matches go to the built-in backend::

    [[models]]
    match = "anthropic.*"                # glob on the model id (inference-profile prefixes removed)
    kind = "openai"                      # builtin | openai | bedrock
    base_url = "http://127.0.0.1:11434/v1"
    model = "llama3.2"                   # the backend's model name (default: the model id)
    api_key_env = "OLLAMA_API_KEY"       # environment variable holding the key, if any
    timeout = 60                         # seconds; ModelTimeoutException when exceeded
    retries = 2                          # extra attempts on connection errors, 429 and 5xx
    fallback = ["amazon.titan-text-express-v1"]   # tried in order when this one fails

    [[models]]
    match = "meta.*"
    kind = "bedrock"                     # real Bedrock with your own AWS credentials
    profile = "default"
    region = "us-east-1"
"""

from __future__ import annotations

import fnmatch
import json
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from nimbus.config import bedrock_models_path

KINDS = ("builtin", "openai", "bedrock")


class ConfigError(ValueError):
    """The bedrock-models file is wrong; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class ModelRoute:
    match: str = "*"
    kind: str = "builtin"
    base_url: str = ""
    model: str = ""
    embedding_model: str = ""  # openai: the model /embeddings uses (default: ``model``)
    api_key_env: str = ""
    timeout: float = 120.0
    retries: int = 2
    backoff: float = 0.25  # seconds before the first retry; doubles each time
    fallback: tuple[str, ...] = ()
    token_delay_ms: float = 0.0  # builtin: time per output token
    max_concurrency: int = 0  # 0: unlimited; beyond it requests get ThrottlingException
    profile: str = ""  # bedrock: the AWS profile whose credentials are used
    region: str = ""  # bedrock: the real region
    explicit: bool = True  # False for the implicit catch-all built-in route

    def matches(self, model_id: str) -> bool:
        return fnmatch.fnmatchcase(model_id, self.match)


def shown_url(url: str) -> str:
    """A base URL as it may be shown or logged: ``http://user:key@host/?key=...`` holds secrets."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def default_route() -> ModelRoute:
    text = os.environ.get("NIMBUS_BEDROCK_TOKEN_DELAY_MS", "") or "0"
    try:
        delay = max(float(text), 0.0)
    except ValueError:
        raise ConfigError(
            f"NIMBUS_BEDROCK_TOKEN_DELAY_MS must be a number of milliseconds, not {text!r}"
        ) from None
    return ModelRoute(token_delay_ms=delay, explicit=False)


_FIELDS = {f.name: f for f in fields(ModelRoute) if f.name != "explicit"}


def _route(entry: Any, where: str) -> ModelRoute:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table/object")
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(_FIELDS)}"
        )
    values: dict[str, Any] = {}
    for key, value in entry.items():
        default = _FIELDS[key].default
        if key == "fallback":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}.fallback must be a list of model ids")
            value = tuple(value)
        elif isinstance(default, bool) or not isinstance(value, type(default) | int):
            raise ConfigError(f"{where}.{key} must be a {type(default).__name__}")
        elif isinstance(default, float):
            value = float(value)
        values[key] = value
    route = ModelRoute(**values)
    if route.kind not in KINDS:
        raise ConfigError(f"{where}.kind must be one of {', '.join(KINDS)}, not {route.kind!r}")
    if route.kind == "openai" and not route.base_url:
        raise ConfigError(
            f"{where}: an openai backend needs base_url (e.g. http://127.0.0.1:11434/v1)"
        )
    if route.timeout <= 0 or route.retries < 0:
        raise ConfigError(f"{where}: timeout must be > 0 and retries >= 0")
    return route


def parse(text: str, name: str) -> list[ModelRoute]:
    try:
        document = tomllib.loads(text) if name.endswith(".toml") else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(
            f"{name} is not valid {'TOML' if name.endswith('.toml') else 'JSON'}: {err}"
        ) from None
    entries = document.get("models") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise ConfigError(f"{name}: expected a list of routes under 'models'")
    return [_route(entry, f"{name}: models[{i}]") for i, entry in enumerate(entries)]


def load(data_root: Path) -> list[ModelRoute]:
    """The configured routes (none when there is no file)."""
    path = bedrock_models_path(data_root)
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read the bedrock-models config {path}: {err}") from None
    return parse(text, str(path))
