"""Console API for SageMaker: training jobs (with their progress and logs) and endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest

from .api import Params

if TYPE_CHECKING:
    from .api import ConsoleApi

_TRAINING_LOGS = "/aws/sagemaker/TrainingJobs"


async def overview(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    jobs = await api.call(
        "sagemaker",
        "ListTrainingJobs",
        MaxResults=100,
        SortBy="CreationTime",
        SortOrder="Descending",
    )
    endpoints = await api.call("sagemaker", "ListEndpoints", MaxResults=100)
    return {
        "trainingJobs": jobs.get("TrainingJobSummaries", []),
        "endpoints": endpoints.get("Endpoints", []),
    }


async def training_job(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    job = await api.call("sagemaker", "DescribeTrainingJob", TrainingJobName=name)
    try:
        found = await api.call(
            "logs", "FilterLogEvents", logGroupName=_TRAINING_LOGS, logStreamNamePrefix=f"{name}/"
        )
        events = found.get("events", [])[-200:]
    except AwsError as err:
        if err.code != "ResourceNotFoundException":  # no log group until a job has logged
            raise
        events = []
    return {"job": job, "events": events}


def register(api: ConsoleApi) -> None:
    api.add("GET", "sagemaker", overview)
    api.add("GET", "sagemaker/training-jobs/{name}", training_job)
