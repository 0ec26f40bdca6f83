"""The training toolkit's contract: hyperparameter decoding, arguments, SM_* variables."""

from __future__ import annotations

import json
from pathlib import Path

from nimbus.services.sagemaker.training_env import (
    JobDirs,
    decode_hyperparameters,
    to_cmd_args,
    training_env,
)


def test_hyperparameters_decode_like_the_toolkit() -> None:
    raw = {"epochs": "5", "lr": "0.1", "name": '"x"', "plain": "not json", "flag": "true"}
    assert decode_hyperparameters(raw) == {
        "epochs": 5, "lr": 0.1, "name": "x", "plain": "not json", "flag": True,
    }  # fmt: skip


def test_cmd_args_sorted_with_single_dash_for_one_letter() -> None:
    args = to_cmd_args({"n": 3, "batch-size": 64, "flag": True, "d": {"b": 2, "a": 1}})
    assert args == ["--batch-size", "64", "-d", "a=1,b=2", "--flag", "True", "-n", "3"]


def test_environment_variables(tmp_path: Path) -> None:
    dirs = JobDirs(tmp_path)
    hps = {"sagemaker_program": "train.py", "epochs": 2, "opt": "adam"}
    env, args = training_env("job", dirs, hps, {"train": {}, "test": {}}, {"hosts": ["algo-1"]})
    assert args == ["--epochs", "2", "--opt", "adam"]
    assert json.loads(env["SM_HPS"]) == {"epochs": 2, "opt": "adam"}
    assert env["SM_HP_EPOCHS"] == "2" and env["SM_HP_OPT"] == "adam"
    assert json.loads(env["SM_CHANNELS"]) == ["test", "train"]
    assert env["SM_CHANNEL_TRAIN"] == str(tmp_path / "input" / "data" / "train")
    assert env["SM_MODEL_DIR"] == str(tmp_path / "model")
    assert env["SM_OUTPUT_DATA_DIR"] == str(tmp_path / "output" / "data")
    assert env["SM_USER_ENTRY_POINT"] == "train.py" and env["SM_MODULE_NAME"] == "train"
    assert env["SM_NUM_GPUS"] == "0" and env["SM_CURRENT_HOST"] == "algo-1"
    training = json.loads(env["SM_TRAINING_ENV"])
    assert training["job_name"] == "job" and training["hyperparameters"]["opt"] == "adam"
