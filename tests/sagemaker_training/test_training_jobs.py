"""SageMaker script-mode training jobs through boto3 against a live Nimbus."""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from .conftest import log_messages, unique, wait, wait_secondary

SKLEARN_SCRIPT = """
import argparse, json, os, sys
import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("-C", type=float)
parser.add_argument("--max-iter", type=int)
parser.add_argument("--solver")
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
parser.add_argument("--train", default=os.environ["SM_CHANNEL_TRAIN"])
args = parser.parse_args()

data = np.loadtxt(os.path.join(args.train, "train.csv"), delimiter=",")
X, y = data[:, 1:], data[:, 0]
model = LogisticRegression(C=args.C, max_iter=args.max_iter, solver=args.solver).fit(X, y)
accuracy = model.score(X, y)
print(f"train accuracy: {accuracy:.4f}")
print("loss=0.25", file=sys.stderr)
joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
seen = {"argv": sys.argv[1:], "hps": json.loads(os.environ["SM_HPS"]),
        "channels": json.loads(os.environ["SM_CHANNELS"]),
        "solver_env": os.environ["SM_HP_SOLVER"], "hosts": json.loads(os.environ["SM_HOSTS"]),
        "current_host": os.environ["SM_CURRENT_HOST"], "gpus": os.environ["SM_NUM_GPUS"],
        "user_args": json.loads(os.environ["SM_USER_ARGS"]),
        "env": json.loads(os.environ["SM_TRAINING_ENV"])["hyperparameters"],
        "custom": os.environ.get("MY_SETTING"), "endpoint": os.environ["AWS_ENDPOINT_URL"],
        "cwd": os.getcwd(), "files": sorted(os.listdir(args.train))}
with open(os.path.join(args.model_dir, "seen.json"), "w") as f:
    json.dump(seen, f)
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.txt"), "w") as f:
    f.write(f"accuracy {accuracy}")
"""

SLOW_SCRIPT = """
import os, time
for epoch in range(1, 600):
    print(f"epoch {epoch} loss: {1.0 / epoch:.3f}", flush=True)
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "checkpoint.txt"), "w") as f:
        f.write(str(epoch))
    time.sleep(0.2)
"""


def _csv() -> str:
    rows = []
    for i in range(40):
        label = i % 2
        rows.append(f"{label},{label * 2 + (i % 5) * 0.1},{(1 - label) * 3 + (i % 3) * 0.1}")
    return "\n".join(rows) + "\n"


def _tar_members(s3: Any, uri: str) -> dict[str, bytes]:
    bucket, _, key = uri[5:].partition("/")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


@pytest.fixture(scope="module")
def train_uri(nimbus: Any, sm_env: dict[str, Any]) -> str:
    nimbus.client("s3").put_object(
        Bucket=sm_env["bucket"], Key="data/train/train.csv", Body=_csv().encode()
    )
    return f"s3://{sm_env['bucket']}/data/train"


def test_sklearn_job_trains_and_uploads_the_model(aws, submit, train_uri, sm_env) -> None:
    sm, s3 = aws("sagemaker"), aws("s3")
    job = submit(
        SKLEARN_SCRIPT,
        hyperparameters={"C": 0.5, "max-iter": 200, "solver": "lbfgs"},
        channels={"train": train_uri},
        metrics=[
            {"Name": "train:accuracy", "Regex": r"train accuracy: ([0-9\.]+)"},
            {"Name": "train:loss", "Regex": r"loss=([0-9\.]+)"},
        ],
        environment={"MY_SETTING": "on"},
    )
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=job, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    desc = sm.describe_training_job(TrainingJobName=job)
    assert desc["TrainingJobStatus"] == "Completed", desc.get("FailureReason")
    assert desc["SecondaryStatus"] == "Completed"
    steps = [t["Status"] for t in desc["SecondaryStatusTransitions"]]
    assert steps == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all("EndTime" in t and t["StatusMessage"] for t in desc["SecondaryStatusTransitions"])
    assert desc["TrainingStartTime"] <= desc["TrainingEndTime"]
    assert desc["BillableTimeInSeconds"] >= 1
    assert desc["AlgorithmSpecification"]["TrainingImage"].endswith("1.2-1-cpu-py3")
    assert desc["HyperParameters"]["sagemaker_program"] == '"train.py"'
    assert desc["ProfilerConfig"]["DisableProfiler"] is True
    assert desc["TrainingJobArn"].endswith(f":training-job/{job}")

    model_uri = desc["ModelArtifacts"]["S3ModelArtifacts"]
    assert model_uri == f"s3://{sm_env['bucket']}/output/{job}/output/model.tar.gz"
    members = _tar_members(s3, model_uri)
    assert set(members) == {"model.joblib", "seen.json"}
    seen = json.loads(members["seen.json"])
    assert seen["argv"] == ["-C", "0.5", "--max-iter", "200", "--solver", "lbfgs"]
    assert seen["user_args"] == seen["argv"]
    assert seen["hps"] == {"C": 0.5, "max-iter": 200, "solver": "lbfgs"} == seen["env"]
    assert seen["solver_env"] == "lbfgs"
    assert seen["channels"] == ["train"] and seen["files"] == ["train.csv"]
    assert seen["hosts"] == ["algo-1"] and seen["current_host"] == "algo-1"
    assert seen["gpus"] == "0" and seen["custom"] == "on"
    assert seen["endpoint"] == sm_env["endpoint"]
    output = _tar_members(s3, model_uri.replace("model.tar.gz", "output.tar.gz"))
    assert output["report.txt"].startswith(b"accuracy 1")

    import joblib
    import numpy as np

    model = joblib.load(io.BytesIO(members["model.joblib"]))
    assert model.predict(np.array([[2.0, 0.0], [0.0, 3.0]])).tolist() == [1.0, 0.0]

    final = {m["MetricName"]: m["Value"] for m in desc["FinalMetricDataList"]}
    assert final == {"train:accuracy": 1.0, "train:loss": 0.25}
    messages = log_messages(aws("logs"), job)
    assert "train accuracy: 1.0000" in messages
    assert any(m.startswith("Invoking script") for m in messages)
    cw = aws("cloudwatch")
    listed = cw.list_metrics(Namespace="/aws/sagemaker/TrainingJobs", MetricName="train:loss")
    hosts = [d["Value"] for m in listed["Metrics"] for d in m["Dimensions"]]
    assert f"{job}/algo-1" in hosts


def test_logs_stream_while_running_and_stop(aws, submit) -> None:
    sm, logs = aws("sagemaker"), aws("logs")
    job = submit(SLOW_SCRIPT, metrics=[{"Name": "loss", "Regex": r"loss: ([0-9\.]+)"}])
    wait_secondary(sm, job, "Training")
    deadline = time.monotonic() + 30
    messages: list[str] = []
    while time.monotonic() < deadline and "epoch 2 loss: 0.500" not in messages:
        with contextlib.suppress(ClientError):
            messages = log_messages(logs, job)
        time.sleep(0.1)
    assert "epoch 2 loss: 0.500" in messages
    assert sm.describe_training_job(TrainingJobName=job)["TrainingJobStatus"] == "InProgress"

    sm.stop_training_job(TrainingJobName=job)
    desc = sm.describe_training_job(TrainingJobName=job)
    assert desc["TrainingJobStatus"] in ("Stopping", "Stopped")
    desc = wait(sm, job)
    assert (desc["TrainingJobStatus"], desc["SecondaryStatus"]) == ("Stopped", "Stopped")
    steps = [t["Status"] for t in desc["SecondaryStatusTransitions"]]
    assert steps == ["Starting", "Downloading", "Training", "Stopping", "Stopped"]
    # What the script saved before the stop is uploaded, as on AWS.
    members = _tar_members(aws("s3"), desc["ModelArtifacts"]["S3ModelArtifacts"])
    assert int(members["checkpoint.txt"]) >= 2
    assert desc["FinalMetricDataList"][0]["MetricName"] == "loss"
    sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName=job)
    with pytest.raises(ClientError) as info:
        sm.stop_training_job(TrainingJobName=job)
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_max_runtime_stops_the_job(aws, submit) -> None:
    sm = aws("sagemaker")
    job = submit(SLOW_SCRIPT, max_runtime=2)
    desc = wait(sm, job)
    assert (desc["TrainingJobStatus"], desc["SecondaryStatus"]) == (
        "Stopped",
        "MaxRuntimeExceeded",
    )
    assert desc["TrainingTimeInSeconds"] >= 2


def test_failing_script_fails_the_job_with_its_error(aws, submit) -> None:
    sm = aws("sagemaker")
    script = "import sys\nprint('starting')\nraise ValueError('bad learning rate 7')\n"
    job = submit(script)
    with pytest.raises(WaiterError):
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName=job, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    desc = sm.describe_training_job(TrainingJobName=job)
    assert (desc["TrainingJobStatus"], desc["SecondaryStatus"]) == ("Failed", "Failed")
    reason = desc["FailureReason"]
    assert reason.startswith("AlgorithmError: ExecuteUserScriptError")
    assert "ValueError: bad learning rate 7" in reason and "exit code: 1" in reason
    assert "ModelArtifacts" not in desc
    assert "ValueError: bad learning rate 7" in log_messages(aws("logs"), job)


def test_missing_input_data_fails_with_client_error(aws, submit, sm_env) -> None:
    sm = aws("sagemaker")
    job = submit("print('never')\n", channels={"train": f"s3://{sm_env['bucket']}/nothing/"})
    desc = wait(sm, job)
    assert desc["TrainingJobStatus"] == "Failed"
    assert desc["FailureReason"].startswith("ClientError: No S3 objects found under S3 URL")


def test_errors_as_aws_answers_them(aws, submit, sm_env) -> None:
    sm = aws("sagemaker")

    def code(call, **kwargs) -> str:
        with pytest.raises(ClientError) as info:
            call(**kwargs)
        return info.value.response["Error"]["Code"]

    assert code(sm.describe_training_job, TrainingJobName="no-such-job") == "ValidationException"
    assert code(sm.stop_training_job, TrainingJobName="no-such-job") == "ValidationException"
    job = submit("print('hi')\n")
    assert code(submit, script="print(1)\n", name=job) == "ResourceInUse"
    assert code(submit, script="print(1)\n", name="bad_name") == "ValidationException"
    base = {
        "TrainingJobName": unique("err"),
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "RoleArn": sm_env["role"],
        "HyperParameters": {"sagemaker_program": '"train.py"'},
        "OutputDataConfig": {"S3OutputPath": f"s3://{sm_env['bucket']}/out"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                           "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }  # fmt: skip
    bad_role = {**base, "RoleArn": "arn:aws:iam::000000000000:role/missing"}
    assert code(sm.create_training_job, **bad_role) == "ValidationException"
    assert code(sm.create_training_job, **{**base, "HyperParameters": {}}) == (
        "ValidationException"
    )
    assert wait(sm, job)["TrainingJobStatus"] == "Completed"


def test_list_training_jobs_filters_sorts_and_pages(aws, submit) -> None:
    sm = aws("sagemaker")
    tag = unique("listing")
    names = [submit("print('ok')\n", name=f"{tag}-{i}") for i in range(3)]
    for name in names:
        wait(sm, name)
    listed = sm.list_training_jobs(NameContains=tag, SortBy="Name", SortOrder="Descending")
    assert [j["TrainingJobName"] for j in listed["TrainingJobSummaries"]] == names[::-1]
    assert listed["TrainingJobSummaries"][0]["TrainingJobStatus"] == "Completed"
    page = sm.list_training_jobs(NameContains=tag, MaxResults=2)
    assert [j["TrainingJobName"] for j in page["TrainingJobSummaries"]] == names[:2]
    rest = sm.list_training_jobs(NameContains=tag, MaxResults=2, NextToken=page["NextToken"])
    assert [j["TrainingJobName"] for j in rest["TrainingJobSummaries"]] == names[2:]
    assert "NextToken" not in rest
    assert (
        sm.list_training_jobs(NameContains=tag, StatusEquals="Failed")["TrainingJobSummaries"] == []
    )
    paginated = sm.get_paginator("list_training_jobs").paginate(
        NameContains=tag, PaginationConfig={"PageSize": 1}
    )
    assert sum(len(p["TrainingJobSummaries"]) for p in paginated) == 3
    first = sm.describe_training_job(TrainingJobName=names[0])["CreationTime"]
    after = sm.list_training_jobs(NameContains=tag, CreationTimeAfter=first)
    assert names[0] not in [j["TrainingJobName"] for j in after["TrainingJobSummaries"]]
