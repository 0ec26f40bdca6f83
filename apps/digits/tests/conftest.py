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


@pytest.fixture(scope="session")
def on_nimbus(tmp_path_factory: pytest.TempPathFactory):
    """The app on a live Nimbus of its own: trained by a SageMaker training job (prepare.py),
    deployed with ``nimbus deploy --json``, web files uploaded (after_deploy.py).
    Yields a :class:`digits_live.Deployment`; shared by the end-to-end and browser tests."""
    from digits_live import deploy_on_nimbus

    with deploy_on_nimbus(tmp_path_factory.mktemp("digits-nimbus")) as deployment:
        yield deployment
