"""Runs one training job: download, the entry point as a subprocess, upload, final status.

The job is an asyncio task on the server's loop; S3 transfers and packing run in worker
threads, and the script is an asyncio subprocess in its own session (so a stop reaches the
processes it started). Its stdout and stderr go to CloudWatch Logs while it runs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import re
import shlex
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from nimbus.services.sagemaker import training_s3 as s3io
from nimbus.services.sagemaker.training_env import (
    CURRENT_HOST,
    JobDirs,
    decode_hyperparameters,
    training_env,
    write_config,
)
from nimbus.services.sagemaker.training_s3 import JobFailure

if TYPE_CHECKING:
    from nimbus.services.sagemaker.training import TrainingEngine

log = logging.getLogger("nimbus.sagemaker")
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
METRIC_NAMESPACE = "/aws/sagemaker/TrainingJobs"
FLUSH_EVERY_S = 0.3
STOP_GRACE_S = float(os.environ.get("NIMBUS_SAGEMAKER_STOP_GRACE_SECONDS", "120"))
STDERR_TAIL_LINES = 12


class MetricScanner:
    """MetricDefinitions regexes over log lines: the first group (or the match) as a number."""

    def __init__(self, definitions: list[dict[str, str]]) -> None:
        self.rules: list[tuple[str, re.Pattern[str]]] = []
        for d in definitions:
            with contextlib.suppress(re.error, KeyError):
                self.rules.append((d["Name"], re.compile(d["Regex"])))
        self.last: dict[str, tuple[float, float]] = {}  # name -> (value, timestamp)
        self.fresh: list[tuple[str, float, float]] = []  # not yet in CloudWatch

    def scan(self, line: str, ts: float) -> None:
        for name, pattern in self.rules:
            match = pattern.search(line)
            if match is None:
                continue
            text = match.group(1) if pattern.groups else match.group(0)
            try:
                value = float(text)
            except (TypeError, ValueError):
                continue
            if value != value or value in (float("inf"), float("-inf")):
                continue
            self.last[name] = (value, ts)
            self.fresh.append((name, value, ts))

    def final(self) -> list[dict[str, Any]]:
        return [
            {"MetricName": name, "Value": value, "Timestamp": ts}
            for name, (value, ts) in self.last.items()
        ]


class JobRun:
    def __init__(self, engine: TrainingEngine, doc: dict[str, Any]) -> None:
        self.engine = engine
        self.name: str = doc["TrainingJobName"]
        self.dirs = JobDirs(engine.jobs_dir / self.name)
        self.stream = f"{self.name}/{CURRENT_HOST}-{int(time.time())}"
        self.metrics = MetricScanner(doc["AlgorithmSpecification"].get("MetricDefinitions") or [])
        self.process: asyncio.subprocess.Process | None = None
        self.stop_reason: str | None = None  # "Stopped" (StopTrainingJob) or "MaxRuntimeExceeded"
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self.pending: list[tuple[int, str]] = []
        self.task: asyncio.Task[None] | None = None
        self._terminating: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        try:
            await self._run()
        except JobFailure as failure:
            self.say(f"Reporting training FAILURE: {failure.reason}")
            self.engine.fail(self.name, failure.reason)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # a bug: the job fails, the server goes on
            log.exception("training job %s", self.name)
            self.engine.fail(self.name, f"InternalServerError: Nimbus failed to run the job: {err}")
        finally:
            self.flush()
            self.engine.runs.pop(self.name, None)

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        running = self.process is not None and self.process.returncode is None
        if running and self._terminating is None:
            self._terminating = asyncio.get_running_loop().create_task(self.terminate())

    async def terminate(self) -> None:
        """SIGTERM to the script's process group, SIGKILL after the grace period (as AWS)."""
        proc = self.process
        if proc is None or proc.returncode is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
        except TimeoutError:
            self._signal(signal.SIGKILL)

    def kill_now(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, sig)

    # -- the job ------------------------------------------------------------------------------
    async def _run(self) -> None:
        engine, name = self.engine, self.name
        doc = engine.doc(name)
        raw_hps: dict[str, str] = doc.get("HyperParameters") or {}
        hps = decode_hyperparameters(raw_hps)
        channels = {c["ChannelName"]: c for c in doc.get("InputDataConfig") or []}
        await asyncio.sleep(0)  # CreateTrainingJob answers before the job starts
        creds = engine.role_credentials(doc["RoleArn"])
        s3 = await asyncio.to_thread(s3io.s3_client, engine.base_url, engine.region, creds)

        if self.stop_reason is None:
            engine.transition(name, "Downloading", "Downloading input data", start=True)
        self.dirs.make(list(channels))
        await asyncio.to_thread(self._download, s3, doc, channels, hps)
        if self.stop_reason:
            await self._finish_stopped(s3, doc)
            return

        engine.transition(
            name, "Training", "Training image download completed. Training in progress."
        )
        code, command = await self._train(doc, hps, raw_hps, channels, creds)
        if self.stop_reason:
            await self._finish_stopped(s3, doc)
            return
        if code != 0:
            raise JobFailure(self._algorithm_error(code, command))
        self.say("Reporting training SUCCESS")
        engine.transition(name, "Uploading", "Uploading generated training model")
        await self._upload(s3, doc)
        engine.complete(name, self.metrics.final())

    def _download(
        self, s3: Any, doc: dict[str, Any], channels: dict[str, Any], hps: dict[str, Any]
    ) -> None:
        role, region = doc["RoleArn"], self.engine.region
        for channel, spec in channels.items():
            source = (spec.get("DataSource") or {}).get("S3DataSource") or {}
            if source.get("S3DataType", "S3Prefix") != "S3Prefix":
                raise JobFailure(
                    f"ClientError: S3DataType {source.get('S3DataType')} of channel {channel} "
                    "is not supported by Nimbus; use S3Prefix."
                )
            s3io.download_prefix(s3, source["S3Uri"], self.dirs.channel(channel), region, role)
        submit = hps.get("sagemaker_submit_directory")
        if submit:
            s3io.download_source(s3, str(submit), self.dirs.code)

    async def _train(
        self,
        doc: dict[str, Any],
        hps: dict[str, Any],
        raw_hps: dict[str, str],
        channels: dict[str, Any],
        creds: dict[str, Any],
    ) -> tuple[int, str]:
        input_config = {
            c: {
                "TrainingInputMode": spec.get("InputMode")
                or doc["AlgorithmSpecification"].get("TrainingInputMode", "File"),
                "S3DistributionType": (
                    (spec.get("DataSource") or {}).get("S3DataSource") or {}
                ).get("S3DataDistributionType", "FullyReplicated"),
                "RecordWrapperType": spec.get("RecordWrapperType", "None"),
            }
            for c, spec in channels.items()
        }
        instance_type = (doc.get("ResourceConfig") or {}).get("InstanceType", "ml.m5.large")
        resource_config = {
            "current_host": CURRENT_HOST,
            "current_instance_type": instance_type,
            "current_group_name": "homogeneousCluster",
            "hosts": [CURRENT_HOST],
            "instance_groups": [
                {
                    "instance_group_name": "homogeneousCluster",
                    "instance_type": instance_type,
                    "hosts": [CURRENT_HOST],
                }
            ],
            "network_interface_name": "eth0",
        }
        write_config(self.dirs, raw_hps, input_config, resource_config)
        sm_env, args = training_env(self.name, self.dirs, hps, input_config, resource_config)
        program = str(hps.get("sagemaker_program") or "")
        if not (self.dirs.code / program).is_file():
            raise JobFailure(
                f"AlgorithmError: the entry point {program} is not in the source archive "
                f"{hps.get('sagemaker_submit_directory') or '(none given)'}"
            )
        env = self._process_env(doc, creds)
        env.update(sm_env)
        cmd = [sys.executable, program, *args]
        command = shlex.join(cmd)
        image = doc["AlgorithmSpecification"].get("TrainingImage", "")
        self.say(
            f"Nimbus: the training image {image} is recorded, not pulled; the script runs on "
            f"Python {sys.version.split()[0]} ({sys.executable}) with the packages installed there."
        )
        self.say("Invoking script with the following command:")
        self.say("")
        self.say(command)
        self.say("")
        self.process = proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=self.dirs.code,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            limit=1 << 20,
        )
        self.engine.set_pid(self.name, proc.pid)
        assert proc.stdout is not None and proc.stderr is not None
        readers = asyncio.gather(self._pump(proc.stdout, False), self._pump(proc.stderr, True))
        flusher = asyncio.get_running_loop().create_task(self._flush_often())
        try:
            remaining = self.engine.remaining_runtime(self.name)
            try:
                await asyncio.wait_for(asyncio.shield(proc.wait()), max(remaining, 0.01))
            except TimeoutError:
                self.say("Training job exceeded MaxRuntimeInSeconds; stopping it.")
                self.request_stop("MaxRuntimeExceeded")
                await proc.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(readers, 5)  # a leftover child may hold the pipes
        finally:
            flusher.cancel()
            self._signal(signal.SIGKILL)  # whatever the script left running in its session
            self.flush()
        return proc.returncode if proc.returncode is not None else -9, command

    def _process_env(self, doc: dict[str, Any], creds: dict[str, Any]) -> dict[str, str]:
        engine = self.engine
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(self.dirs.root)),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
        env.update({str(k): str(v) for k, v in (doc.get("Environment") or {}).items()})
        env.update(
            {
                "TRAINING_JOB_NAME": self.name,
                "TRAINING_JOB_ARN": doc["TrainingJobArn"],
                "AWS_REGION": engine.region,
                "AWS_DEFAULT_REGION": engine.region,
                "AWS_ENDPOINT_URL": engine.base_url,
                "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                "AWS_SESSION_TOKEN": creds["SessionToken"],
            }
        )
        return env

    def _algorithm_error(self, code: int, command: str) -> str:
        failure_file = self.dirs.output / "failure"
        if failure_file.is_file():
            text = failure_file.read_text(errors="replace").strip()
            if text:
                return f"AlgorithmError: {text}"
        message = "\n".join(self.stderr_tail).strip() or "(the script wrote nothing to stderr)"
        return (
            f"AlgorithmError: ExecuteUserScriptError:\nExitCode {code}\n"
            f'ErrorMessage "{message[-700:]}"\nCommand "{command}", exit code: {code}'
        )

    async def _finish_stopped(self, s3: Any, doc: dict[str, Any]) -> None:
        # Like AWS, what the script saved to SM_MODEL_DIR before the stop is uploaded.
        with contextlib.suppress(JobFailure):
            await self._upload(s3, doc)
        self.engine.stopped(self.name, self.stop_reason or "Stopped", self.metrics.final())

    async def _upload(self, s3: Any, doc: dict[str, Any]) -> None:
        out = doc["OutputDataConfig"]["S3OutputPath"]
        model_uri = s3io.output_uri(out, self.name, "model.tar.gz")
        await asyncio.to_thread(s3io.upload_tarball, s3, self.dirs.model, model_uri)
        self.engine.set_artifacts(self.name, model_uri)
        if any(self.dirs.output_data.iterdir()):
            output_uri = s3io.output_uri(out, self.name, "output.tar.gz")
            await asyncio.to_thread(s3io.upload_tarball, s3, self.dirs.output_data, output_uri)

    # -- logs and metrics ---------------------------------------------------------------------
    async def _pump(self, stream: asyncio.StreamReader, is_stderr: bool) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line over the limit: take what is there
                raw = await stream.read(1 << 20)
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if is_stderr:
                self.stderr_tail.append(line)
            self.say(line)

    def say(self, line: str) -> None:
        now = time.time()
        self.pending.append((int(now * 1000), line or " "))
        self.metrics.scan(line, now)

    async def _flush_often(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            self.flush()

    def flush(self) -> None:
        if self.engine.closing:
            return
        events, self.pending = self.pending, []
        fresh, self.metrics.fresh = self.metrics.fresh, []
        try:
            if events:
                self.engine.registry.get("logs").append(LOG_GROUP, self.stream, events)
            if fresh:
                dims = [{"Name": "Host", "Value": f"{self.name}/{CURRENT_HOST}"}]
                data = [
                    {"MetricName": n, "Value": v, "Timestamp": ts, "Dimensions": dims}
                    for n, v, ts in fresh
                ]
                self.engine.registry.get("cloudwatch").put_metrics(METRIC_NAMESPACE, data)
                self.engine.set_metrics(self.name, self.metrics.final())
        except Exception:  # logs must never fail the job
            log.exception("could not write the logs or metrics of training job %s", self.name)
