"""SageMaker training jobs: validation, state, status transitions and the running jobs.

Status and SecondaryStatus follow AWS: InProgress (Starting -> Downloading -> Training ->
Uploading), then Completed, Failed, or Stopping -> Stopped (Stopped or MaxRuntimeExceeded).
Each secondary status is a SecondaryStatusTransitions entry with StartTime, EndTime and the
message AWS shows. The job's script runs in :mod:`training_runner`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from nimbus.aws.errors import AwsError, validation
from nimbus.services.sagemaker.training_env import decode_hyperparameters
from nimbus.services.sagemaker.training_runner import JobRun
from nimbus.services.sagemaker.training_store import TrainingStore

log = logging.getLogger("nimbus.sagemaker")
JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9\.\-_]+$")
SERVER_STOPPED = "InternalServerError: the Nimbus server stopped while the job ran"
STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
#: CreateTrainingJob members that DescribeTrainingJob echoes back.
ECHOED = ("HyperParameters", "AlgorithmSpecification", "RoleArn", "InputDataConfig",
          "OutputDataConfig", "ResourceConfig", "VpcConfig", "StoppingCondition",
          "EnableNetworkIsolation", "EnableInterContainerTrafficEncryption",
          "EnableManagedSpotTraining", "CheckpointConfig", "DebugHookConfig",
          "ExperimentConfig", "DebugRuleConfigurations", "TensorBoardOutputConfig",
          "ProfilerConfig", "ProfilerRuleConfigurations", "Environment", "RetryStrategy",
          "RemoteDebugConfig", "InfraCheckConfig")  # fmt: skip
MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job stopped because it exceeded MaxRuntimeInSeconds",
}


def _now() -> float:
    """Epoch seconds to the millisecond, the precision the wire carries (filters compare)."""
    return round(time.time(), 3)


def not_found() -> AwsError:
    # AWS answers DescribeTrainingJob/StopTrainingJob on a missing job with this, not
    # ResourceNotFound (boto3's waiter for training jobs expects it too).
    return validation("Requested resource not found.")


def _pid_is_job(pid: int, code_dir: Path) -> bool:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")) == code_dir
    except OSError:
        return False


class TrainingEngine:
    def __init__(self, data_dir: Path, region: str, account_id: str, registry: Any,
                 base_url: str) -> None:  # fmt: skip
        self.region = region
        self.account_id = account_id
        self.registry = registry
        self.base_url = base_url
        self.jobs_dir = data_dir / "training"
        self.store = TrainingStore(data_dir)
        self.runs: dict[str, JobRun] = {}
        self.closing = False
        self.told_about: set[str] = set()
        self._recover()

    def close(self) -> None:
        self.closing = True
        for run in list(self.runs.values()):
            run.kill_now()
            if run.task is not None:
                run.task.cancel()
        self.runs.clear()
        self.store.close()

    def arn(self, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:training-job/{name.lower()}"

    # -- documents ----------------------------------------------------------------------------
    def doc(self, name: str) -> dict[str, Any]:
        doc = self.store.get(name or "")
        if doc is None:
            raise not_found()
        return doc

    def _save(self, doc: dict[str, Any], now: float | None = None) -> None:
        if not self.closing:
            doc["LastModifiedTime"] = now or _now()
            self.store.put(doc)

    def transition(self, name: str, secondary: str, message: str | None = None, *,
                   status: str | None = None, start: bool = False,
                   doc: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        doc = doc or self.doc(name)
        now = _now()
        transitions = doc.setdefault("SecondaryStatusTransitions", [])
        if transitions and "EndTime" not in transitions[-1]:
            transitions[-1]["EndTime"] = now
        entry: dict[str, Any] = {"Status": secondary, "StartTime": now}
        entry["StatusMessage"] = message or MESSAGES.get(secondary, secondary)
        if secondary in ("Completed", "Failed", "Stopped", "MaxRuntimeExceeded"):
            entry["EndTime"] = now
        transitions.append(entry)
        doc["SecondaryStatus"] = secondary
        if status:
            doc["TrainingJobStatus"] = status
        if start:
            doc["TrainingStartTime"] = now
        self._save(doc, now)
        return doc

    def _end(self, doc: dict[str, Any], status: str, secondary: str) -> None:
        now = _now()
        doc["TrainingEndTime"] = now
        started = doc.get("TrainingStartTime") or doc["CreationTime"]
        seconds = max(1, round(now - started))
        doc["TrainingTimeInSeconds"] = seconds
        doc["BillableTimeInSeconds"] = seconds
        doc.pop("_pid", None)
        self.transition(doc["TrainingJobName"], secondary, status=status, doc=doc)

    def set_pid(self, name: str, pid: int) -> None:
        doc = self.doc(name)
        doc["_pid"] = pid
        self._save(doc)

    def set_metrics(self, name: str, final: list[dict[str, Any]]) -> None:
        doc = self.doc(name)
        doc["FinalMetricDataList"] = final
        self._save(doc)

    def set_artifacts(self, name: str, uri: str) -> None:
        doc = self.doc(name)
        doc["ModelArtifacts"] = {"S3ModelArtifacts": uri}
        self._save(doc)

    def complete(self, name: str, metrics: list[dict[str, Any]]) -> None:
        doc = self.doc(name)
        doc["FinalMetricDataList"] = metrics
        self._end(doc, "Completed", "Completed")

    def fail(self, name: str, reason: str) -> None:
        if self.closing:
            return
        doc = self.doc(name)
        doc["FailureReason"] = reason[:1024]
        self._end(doc, "Failed", "Failed")

    def stopped(self, name: str, reason: str, metrics: list[dict[str, Any]]) -> None:
        doc = self.doc(name)
        doc["FinalMetricDataList"] = metrics
        self._end(doc, "Stopped", reason)

    def remaining_runtime(self, name: str) -> float:
        doc = self.doc(name)
        limit = (doc.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds") or 86400
        return limit - (_now() - (doc.get("TrainingStartTime") or doc["CreationTime"]))

    def role_credentials(self, role_arn: str) -> dict[str, Any]:
        return self.registry.get("iam").issue_role_credentials(role_arn, "SageMaker")

    # -- restart ------------------------------------------------------------------------------
    def _recover(self) -> None:
        """Jobs that were running when the server died have failed; their scripts are ended."""
        for doc in self.store.unfinished():
            pid = doc.get("_pid")
            code_dir = self.jobs_dir / doc["TrainingJobName"] / "code"
            if pid and _pid_is_job(pid, code_dir):
                with contextlib.suppress(OSError):
                    os.killpg(pid, 9)
            doc["FailureReason"] = SERVER_STOPPED
            self._end(doc, "Failed", "Failed")

    # -- operations ---------------------------------------------------------------------------
    def create(self, req: dict[str, Any]) -> str:
        name = req.get("TrainingJobName") or ""
        if not JOB_NAME.match(name):
            raise validation(
                f"1 validation error detected: Value '{name}' at 'trainingJobName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
            )
        self._check(req)
        if self.store.exists(name):
            raise AwsError(
                "ResourceInUse",
                f"Training job names must be unique within an AWS account and region, and a "
                f"training job with this name already exists ({self.arn(name)})",
                400,
            )
        now = _now()
        doc: dict[str, Any] = {"TrainingJobName": name, "TrainingJobArn": self.arn(name)}
        doc.update({k: req[k] for k in ECHOED if req.get(k) is not None})
        spec = doc["AlgorithmSpecification"] = dict(req["AlgorithmSpecification"])
        spec.setdefault("TrainingInputMode", "File")
        spec.setdefault("EnableSageMakerMetricsTimeSeries", False)
        doc["OutputDataConfig"] = {"KmsKeyId": "", **req["OutputDataConfig"]}
        doc.setdefault("EnableNetworkIsolation", False)
        doc.setdefault("EnableInterContainerTrafficEncryption", False)
        doc.setdefault("EnableManagedSpotTraining", False)
        doc.update({"TrainingJobStatus": "InProgress", "CreationTime": now})
        doc["_tags"] = req.get("Tags") or []
        self.transition(name, "Starting", doc=doc)
        self._note_image(spec.get("TrainingImage") or "")
        run = self.runs[name] = JobRun(self, doc)
        run.start()
        return doc["TrainingJobArn"]

    def _check(self, req: dict[str, Any]) -> None:
        spec = req.get("AlgorithmSpecification") or {}
        if spec.get("AlgorithmName") or not spec.get("TrainingImage"):
            raise validation(
                "Nimbus runs script-mode training jobs: give AlgorithmSpecification."
                "TrainingImage (a framework image) and the hyperparameters sagemaker_program "
                "and sagemaker_submit_directory, as the SageMaker Python SDK does."
            )
        if spec.get("TrainingInputMode", "File") not in ("File", "FastFile"):
            raise validation(
                f"TrainingInputMode {spec['TrainingInputMode']} is not supported by Nimbus; "
                "use File."
            )
        hps = decode_hyperparameters(req.get("HyperParameters") or {})
        if not hps.get("sagemaker_program"):
            raise validation(
                "Nimbus runs script-mode training jobs: the hyperparameter sagemaker_program "
                "(the entry point, JSON-encoded like '\"train.py\"') is missing."
            )
        role = req.get("RoleArn") or ""
        try:
            found = self.registry.get("iam").engine.role_by_arn(role)
        except AwsError:
            found = None
        trust = unquote(json.dumps((found or {}).get("AssumeRolePolicyDocument") or ""))
        if found is None or "sagemaker.amazonaws.com" not in trust:
            raise validation(
                f"Could not assume role {role}. Please ensure that the role exists and allows "
                "principal 'sagemaker.amazonaws.com' to assume the role."
            )
        out = (req.get("OutputDataConfig") or {}).get("S3OutputPath") or ""
        if not out.startswith("s3://") or len(out) <= 5:
            raise validation(f"OutputDataConfig.S3OutputPath {out!r} must be an s3:// URI.")
        seen: set[str] = set()
        for channel in req.get("InputDataConfig") or []:
            cname = channel.get("ChannelName") or ""
            if not CHANNEL_NAME.match(cname) or cname in seen:
                raise validation(f"Channel names must be unique and valid: {cname!r}.")
            seen.add(cname)
            source = (channel.get("DataSource") or {}).get("S3DataSource")
            if not source or not str(source.get("S3Uri", "")).startswith("s3://"):
                raise validation(
                    f"Channel {cname}: Nimbus reads input channels from "
                    "DataSource.S3DataSource with an s3:// S3Uri."
                )
        limit = (req.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        if limit is not None and limit < 1:
            raise validation("StoppingCondition.MaxRuntimeInSeconds must be at least 1.")

    def _note_image(self, image: str) -> None:
        """Once per image: it is recorded, not pulled; the script runs on Nimbus's Python."""
        if image in self.told_about:
            return
        self.told_about.add(image)
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else "latest"
        log.warning(
            "training image %s (tag %s) is recorded, not pulled: scripts run on Python %s "
            "(%s) with the packages installed there",
            image, tag, sys.version.split()[0], sys.executable,
        )  # fmt: skip

    def describe(self, name: str) -> dict[str, Any]:
        doc = self.doc(name)
        return {k: v for k, v in doc.items() if not k.startswith("_")}

    def stop(self, name: str) -> None:
        doc = self.doc(name)
        status = doc["TrainingJobStatus"]
        if status != "InProgress":
            raise validation(
                f"The request was rejected because the training job is in status {status}."
            )
        self.transition(name, "Stopping", status="Stopping", doc=doc)
        run = self.runs.get(name)
        if run is not None:
            run.request_stop("Stopped")
        else:  # nothing runs it (cannot happen after recovery, but never leave it Stopping)
            self.stopped(name, "Stopped", doc.get("FinalMetricDataList") or [])

    def summaries(self) -> list[dict[str, Any]]:
        return self.store.summaries()
