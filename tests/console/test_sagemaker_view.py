"""The console's SageMaker view: a training job's progress, metrics and log, in the API and UI."""

from __future__ import annotations

import io
import json
import tarfile
import time
import uuid
from typing import Any

from .test_browser import open_view, page  # noqa: F401  (the page fixture)

SCRIPT = """
import os, time
print("epoch 1 loss=0.5", flush=True)
time.sleep(1)
print("test_accuracy=0.975", flush=True)
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("ok")
"""
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": "sagemaker.amazonaws.com"}}]}  # fmt: skip


def _sourcedir(script: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("train.py")
        info.size = len(script.encode())
        tar.addfile(info, io.BytesIO(script.encode()))
    return buffer.getvalue()


def _train(aws: Any) -> str:
    iam, s3, sm = aws("iam"), aws("s3"), aws("sagemaker")
    suffix = uuid.uuid4().hex[:8]
    role = iam.create_role(RoleName=f"console-sm-{suffix}",
                           AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]  # fmt: skip
    iam.attach_role_policy(RoleName=role["RoleName"],
                           PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")  # fmt: skip
    bucket = f"console-sm-{suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="src/sourcedir.tar.gz", Body=_sourcedir(SCRIPT))
    job = f"console-job-{suffix}"
    sm.create_training_job(
        TrainingJobName=job,
        AlgorithmSpecification={
            "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/"
            "sagemaker-scikit-learn:1.2-1-cpu-py3",
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "test:accuracy", "Regex": "test_accuracy=([0-9.]+)"}],
        },
        RoleArn=role["Arn"],
        HyperParameters={
            "sagemaker_program": json.dumps("train.py"),
            "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/src/sourcedir.tar.gz"),
        },
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/out"},
        ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 120},
    )
    return job


def test_training_job_progress_in_api_and_browser(page, console, aws):  # noqa: F811
    job = _train(aws)
    listed = console.get("sagemaker")
    assert job in [j["TrainingJobName"] for j in listed["trainingJobs"]]

    # The page follows the job while it runs, until every step is done.
    open_view(page, f"sagemaker/training-jobs/{job}")
    steps = page.locator("[data-testid=training-steps] li")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        states = [steps.nth(i).get_attribute("data-state") for i in range(steps.count())]
        if states and all(s == "done" for s in states):
            break
        time.sleep(0.5)
    assert [steps.nth(i).inner_text() for i in range(steps.count())] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed"]  # fmt: skip
    assert all(steps.nth(i).get_attribute("data-state") == "done" for i in range(steps.count()))
    page.locator("[data-testid=training-metrics]").get_by_text("test:accuracy").wait_for()
    page.get_by_text("test_accuracy=0.975").first.wait_for()

    detail = console.get(f"sagemaker/training-jobs/{job}")
    assert detail["job"]["TrainingJobStatus"] == "Completed"
    assert any("epoch 1" in e["message"] for e in detail["events"])
    status, body, _ = console.request("GET", "sagemaker/training-jobs/no-such-job")
    assert status == 400 and body["code"] == "ValidationException"
