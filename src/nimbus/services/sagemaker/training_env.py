"""The script-mode contract of the SageMaker training toolkit, on a local job folder.

The SageMaker Python SDK JSON-encodes every hyperparameter value (``'"train.py"'``, ``'5'``);
the toolkit decodes them, keeps ``sagemaker_*`` ones as framework parameters, and gives the
user's ones to the entry point as ``--name value`` arguments and ``SM_HP_<NAME>`` / ``SM_HPS``.
Folders mirror ``/opt/ml``: ``input/config``, ``input/data/<channel>``, ``model``,
``output/data``, ``code``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CURRENT_HOST = "algo-1"


@dataclass(frozen=True, slots=True)
class JobDirs:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "input" / "config"

    @property
    def data(self) -> Path:
        return self.root / "input" / "data"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def output_data(self) -> Path:
        return self.root / "output" / "data"

    @property
    def intermediate(self) -> Path:
        return self.root / "output" / "intermediate"

    @property
    def code(self) -> Path:
        return self.root / "code"

    def channel(self, name: str) -> Path:
        return self.data / name

    def make(self, channels: list[str]) -> None:
        for path in (self.config, self.model, self.output_data, self.intermediate, self.code):
            path.mkdir(parents=True, exist_ok=True)
        for name in channels:
            self.channel(name).mkdir(parents=True, exist_ok=True)


def decode_hyperparameters(raw: dict[str, str]) -> dict[str, Any]:
    """JSON-decode each value as the toolkit does; a value that is not JSON stays a string."""
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            decoded[key] = json.loads(value)
        except (TypeError, ValueError):
            decoded[key] = value
    return decoded


def split_hyperparameters(hps: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the user's hyperparameters, the ``sagemaker_*`` framework parameters)."""
    user = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
    framework = {k: v for k, v in hps.items() if k.startswith("sagemaker_")}
    return user, framework


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin1")
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def to_cmd_args(hps: dict[str, Any]) -> list[str]:
    """``--name value`` pairs sorted by name (``-x`` for one-letter names), as the toolkit."""
    args: list[str] = []
    for key in sorted(hps):
        value = hps[key]
        args.append(f"--{key}" if len(key) > 1 else f"-{key}")
        if isinstance(value, dict):
            args.append(",".join(f"{k}={v}" for k, v in sorted(value.items())))
        else:
            args.append(str(value))
    return args


def training_env(
    job_name: str,
    dirs: JobDirs,
    hps: dict[str, Any],
    input_data_config: dict[str, Any],
    resource_config: dict[str, Any],
) -> tuple[dict[str, str], list[str]]:
    """The ``SM_*`` variables and the entry point's arguments for one job."""
    user, framework = split_hyperparameters(hps)
    program = str(framework.get("sagemaker_program") or "")
    args = to_cmd_args(user)
    channels = sorted(input_data_config)
    num_cpus = os.cpu_count() or 1
    env = {
        "job_name": job_name,
        "additional_framework_parameters": {},
        "channel_input_dirs": {c: str(dirs.channel(c)) for c in channels},
        "current_host": CURRENT_HOST,
        "current_instance_group": "homogeneousCluster",
        "framework_module": None,
        "hosts": [CURRENT_HOST],
        "hyperparameters": user,
        "input_config_dir": str(dirs.config),
        "input_data_config": input_data_config,
        "input_dir": str(dirs.root / "input"),
        "is_master": True,
        "log_level": int(framework.get("sagemaker_container_log_level") or 20),
        "master_hostname": CURRENT_HOST,
        "model_dir": str(dirs.model),
        "module_dir": str(framework.get("sagemaker_submit_directory") or ""),
        "module_name": program.removesuffix(".py"),
        "network_interface_name": "eth0",
        "num_cpus": num_cpus,
        "num_gpus": 0,
        "num_neurons": 0,
        "output_data_dir": str(dirs.output_data),
        "output_dir": str(dirs.output),
        "output_intermediate_dir": str(dirs.intermediate),
        "resource_config": resource_config,
        "user_entry_point": program,
    }
    variables = {f"SM_{k.upper()}": _text(v) for k, v in env.items() if k != "job_name"}
    variables.update(
        {
            "SM_HPS": _text(user),
            "SM_CHANNELS": _text(channels),
            "SM_USER_ARGS": _text(args),
            "SM_FRAMEWORK_PARAMS": _text({}),
            "SM_TRAINING_ENV": _text(env),
        }
    )
    variables.update({f"SM_CHANNEL_{c.upper()}": str(dirs.channel(c)) for c in channels})
    variables.update({f"SM_HP_{k.upper()}": _text(v) for k, v in user.items()})
    return variables, args


def write_config(
    dirs: JobDirs,
    raw_hps: dict[str, str],
    input_data_config: dict[str, Any],
    resource_config: dict[str, Any],
) -> None:
    """``/opt/ml/input/config/*.json`` as SageMaker writes them before the toolkit starts."""
    files = {
        "hyperparameters.json": raw_hps,
        "inputdataconfig.json": input_data_config,
        "resourceconfig.json": resource_config,
    }
    for name, content in files.items():
        (dirs.config / name).write_text(json.dumps(content, indent=2))
