"""Fixtures for the digits app: a model trained once per session with train.py's defaults."""

from __future__ import annotations

import pytest
from digits_support import inference, train


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Train once with the script's defaults: {"model_dir", "test_accuracy", "seconds", ...}."""
    model_dir = tmp_path_factory.mktemp("digits-model")
    args = train.parse_args(["--model-dir", str(model_dir)])
    result = train.train(args)
    return {**result, "model_dir": model_dir}


@pytest.fixture(scope="session")
def model(trained: dict):
    return inference.model_fn(str(trained["model_dir"]))
