"""Helpers: a role SageMaker may assume, a bucket, and jobs submitted as the SageMaker
Python SDK's ``estimator.fit()`` submits them (sourcedir.tar.gz + JSON-encoded hyperparameters)."""

from __future__ import annotations

import io
import json
import tarfile
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
         "Action": "sts:AssumeRole"}
    ],
}  # fmt: skip
TERMINAL = ("Completed", "Failed", "Stopped")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def sourcedir(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sm_env(nimbus: Any) -> dict[str, Any]:
    iam, s3 = nimbus.client("iam"), nimbus.client("s3")
    role = unique("sm-role")
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    bucket = unique("sm-bucket")
    s3.create_bucket(Bucket=bucket)
    return {"role": arn, "bucket": bucket, "endpoint": nimbus.endpoint}


@pytest.fixture
def submit(aws: Callable[..., Any], sm_env: dict[str, Any]) -> Callable[..., str]:
    return make_submit(aws, sm_env)


def make_submit(aws: Callable[..., Any], sm_env: dict[str, Any]) -> Callable[..., str]:
    def submit(
        script: str,
        *,
        hyperparameters: dict[str, Any] | None = None,
        channels: dict[str, str] | None = None,
        metrics: list[dict[str, str]] | None = None,
        max_runtime: int = 600,
        environment: dict[str, str] | None = None,
        name: str | None = None,
    ) -> str:
        sm, s3, bucket = aws("sagemaker"), aws("s3"), sm_env["bucket"]
        job = name or unique("sklearn-job")
        key = f"{job}/source/sourcedir.tar.gz"
        s3.put_object(Bucket=bucket, Key=key, Body=sourcedir({"train.py": script}))
        hps = {k: json.dumps(v) for k, v in (hyperparameters or {}).items()}
        hps.update(
            {
                "sagemaker_program": json.dumps("train.py"),
                "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/{key}"),
                "sagemaker_container_log_level": "20",
                "sagemaker_job_name": json.dumps(job),
                "sagemaker_region": json.dumps("us-east-1"),
            }
        )
        inputs = [
            {
                "ChannelName": channel,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for channel, uri in (channels or {}).items()
        ]
        spec: dict[str, Any] = {"TrainingImage": IMAGE, "TrainingInputMode": "File"}
        if metrics:
            spec["MetricDefinitions"] = metrics
        request: dict[str, Any] = {
            "TrainingJobName": job,
            "AlgorithmSpecification": spec,
            "RoleArn": sm_env["role"],
            "HyperParameters": hps,
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
            "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                               "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
            "ProfilerConfig": {"S3OutputPath": f"s3://{bucket}/", "DisableProfiler": True},
            "Environment": environment or {},
        }  # fmt: skip
        if inputs:
            request["InputDataConfig"] = inputs
        sm.create_training_job(**request)
        return job

    return submit


def wait(sm: Any, job: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desc = sm.describe_training_job(TrainingJobName=job)
        if desc["TrainingJobStatus"] in TERMINAL:
            return desc
        time.sleep(0.2)
    raise AssertionError(f"{job} did not finish: {desc}")


def wait_secondary(sm: Any, job: str, status: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desc = sm.describe_training_job(TrainingJobName=job)
        if desc["SecondaryStatus"] == status:
            return desc
        assert desc["TrainingJobStatus"] not in TERMINAL, desc
        time.sleep(0.1)
    raise AssertionError(f"{job} never reached {status}")


def log_messages(logs: Any, job: str) -> list[str]:
    group = "/aws/sagemaker/TrainingJobs"
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job}/")
    messages = []
    for stream in streams["logStreams"]:
        events = logs.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
        )
        messages += [e["message"] for e in events["events"]]
    return messages
