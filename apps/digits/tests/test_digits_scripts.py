"""The bootstrap/prepare/upload scripts and the handlers against a live Nimbus (S3, DynamoDB)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from digits_support import (
    APP,
    REPO,
    CannedEndpoint,
    dark_on_light,
    digit_ink,
    encode,
    history,
    load,
)
from digits_support import predict as predict_module

sys.path.insert(0, str(REPO / "tests"))
from support import NimbusServer

bootstrap = load("digits_bootstrap", APP / "scripts" / "bootstrap.py")
upload_web = load("digits_upload_web", APP / "scripts" / "upload_web.py")
QUICK = json.dumps({"augment": 0, "epochs": 2, "hidden": 16})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NimbusServer]:
    nimbus = NimbusServer(tmp_path_factory.mktemp("digits-nimbus") / "data")
    nimbus.start()
    yield nimbus
    nimbus.stop()


def env_for(server: NimbusServer) -> dict[str, str]:
    return {
        **os.environ, "AWS_ENDPOINT_URL": server.endpoint, "AWS_ACCESS_KEY_ID": "nimbus",
        "AWS_SECRET_ACCESS_KEY": "nimbus", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1", "DIGITS_HYPERPARAMETERS": QUICK,
    }  # fmt: skip


def test_the_source_archive_holds_the_training_folder() -> None:
    data, digest = bootstrap.pack_source()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = set(tar.getnames())
    assert {"train.py", "inference.py", "requirements.txt", "code_requirements.txt"} <= names
    assert not any("__pycache__" in n for n in names)
    assert bootstrap.pack_source() == (data, digest)  # deterministic: re-uploads are no-ops


def test_the_training_job_request_is_what_the_sagemaker_sdk_sends() -> None:
    request = bootstrap.job_request(
        "digits-1", "s3://b/digits/source/x/sourcedir.tar.gz", "b",
        "arn:aws:iam::123456789012:role/r", "eu-west-1", "ml.m5.large",
    )  # fmt: skip
    hps = request["HyperParameters"]
    assert json.loads(hps["sagemaker_program"]) == "train.py"
    assert (
        json.loads(hps["sagemaker_submit_directory"]) == "s3://b/digits/source/x/sourcedir.tar.gz"
    )
    assert all(isinstance(v, str) for v in hps.values())
    spec = request["AlgorithmSpecification"]
    assert spec["TrainingImage"].startswith("141502667606.dkr.ecr.eu-west-1.amazonaws.com/")
    [metric] = spec["MetricDefinitions"]
    assert re.search(metric["Regex"], "test_accuracy=0.9812").group(1) == "0.9812"
    assert request["OutputDataConfig"]["S3OutputPath"] == "s3://b/digits/output"


def test_prepare_trains_once_then_reuses_the_model(server: NimbusServer, tmp_path: Path) -> None:
    script = APP / "scripts" / "prepare.py"
    env = env_for(server)
    first = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                           text=True, timeout=600)  # fmt: skip
    assert first.returncode == 0, first.stderr[-3000:]
    [line] = first.stdout.splitlines()
    url = line.removeprefix("ModelDataUrl=")
    assert url.startswith("s3://") and url.endswith("/output/model.tar.gz")
    bucket, _, key = url.removeprefix("s3://").partition("/")
    body = server.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = set(tar.getnames())
    assert {"model.onnx", "code/inference.py", "code/requirements.txt"} <= names
    again = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                           text=True, timeout=120)  # fmt: skip
    assert again.returncode == 0 and again.stdout == first.stdout
    assert "reusing" in again.stderr


def test_upload_web_writes_the_files_with_types_and_the_config(server: NimbusServer) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="digits-web-test")
    keys = upload_web.upload("digits-web-test", "http://api.example/", s3=s3)
    assert {"index.html", "app.js", "app.css", "config.json"} <= set(keys)
    head = s3.head_object(Bucket="digits-web-test", Key="index.html")
    assert head["ContentType"].startswith("text/html")
    assert s3.head_object(Bucket="digits-web-test", Key="app.js")["ContentType"].startswith(
        "text/javascript"
    )
    config = json.loads(s3.get_object(Bucket="digits-web-test", Key="config.json")["Body"].read())
    assert config == {"apiUrl": "http://api.example"}


def test_handlers_against_nimbus_dynamodb(server: NimbusServer) -> None:
    dynamodb = server.client("dynamodb")
    dynamodb.create_table(
        TableName="PredictionHistory", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
    )  # fmt: skip
    ticks = iter(range(1_750_000_000, 1_750_000_100))
    predictor = predict_module.Predictor(
        CannedEndpoint(digit=9), dynamodb, "e", "PredictionHistory",
        clock=lambda: float(next(ticks)),
    )  # fmt: skip
    png = encode(dark_on_light(digit_ink(9)))
    import base64

    event = {"headers": {"content-type": "image/png"}, "isBase64Encoded": True,
             "body": base64.b64encode(png).decode()}  # fmt: skip
    ids = [json.loads(predictor.handle(event)["body"])["id"] for _ in range(3)]
    reader = history.History(dynamodb, "PredictionHistory")
    page = json.loads(reader.handle({"queryStringParameters": {"limit": "2"}})["body"])
    assert [i["id"] for i in page["items"]] == ids[::-1][:2]
    assert page["items"][0]["prediction"] == 9 and len(page["items"][0]["probabilities"]) == 10
    rest = json.loads(
        reader.handle({"queryStringParameters": {"limit": "2", "next": page["next"]}})["body"]
    )
    assert [i["id"] for i in rest["items"]] == [ids[0]]
