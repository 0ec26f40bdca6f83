"""Train the digit model as a SageMaker training job and print its ModelDataUrl.

boto3 only; works against Nimbus and AWS alike (boto3 honours AWS_ENDPOINT_URL, so with it set
every call goes to Nimbus). Steps: make the artifacts bucket if needed, pack ``training/`` into
``sourcedir.tar.gz`` and upload it, CreateTrainingJob in script mode with the hyperparameters the
SageMaker Python SDK sends (``sagemaker_program``, ``sagemaker_submit_directory``, JSON-encoded),
wait while printing status, secondary status and the accuracy metric, then print
``ModelDataUrl=s3://.../output/model.tar.gz`` on stdout (progress goes to stderr).

    python scripts/bootstrap.py                      # Nimbus: AWS_ENDPOINT_URL=http://127.0.0.1:4566
    python scripts/bootstrap.py --role-arn arn:aws:iam::123456789012:role/MySageMakerRole  # AWS
    python scripts/bootstrap.py --local              # train here, upload the model.tar.gz only
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

APP = Path(__file__).resolve().parents[1]
TRAINING = APP / "training"
PREFIX = "digits"
ROLE_NAME = "DigitsSageMakerTrainingRole"
METRIC = {"Name": "test:accuracy", "Regex": "test_accuracy=([0-9\\.]+)"}
HYPERPARAMETERS = {"augment": 14, "hidden": 256, "epochs": 50, "alpha": 0.001}
IMAGE_TAG = "sagemaker-scikit-learn:1.2-1-cpu-py3"
IMAGE_ACCOUNTS = {  # the same registry accounts as template.yaml's SklearnImageAccount mapping
    "af-south-1": "510948584623", "ap-east-1": "651117190479", "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698", "ap-south-1": "720646828776",
    "ap-southeast-1": "121021644041", "ap-southeast-2": "783357654285",
    "ca-central-1": "341280168497", "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500", "eu-central-1": "492215442770",
    "eu-north-1": "662702820516", "eu-south-1": "978288397137", "eu-west-1": "141502667606",
    "eu-west-2": "764974769150", "eu-west-3": "659782779980", "me-south-1": "801668240914",
    "sa-east-1": "737474898029", "us-east-1": "683313688378", "us-east-2": "257758044811",
    "us-gov-west-1": "414596584902", "us-west-1": "746614075791", "us-west-2": "246618743249",
}  # fmt: skip


def hyperparameters() -> dict:
    """HYPERPARAMETERS, with overrides from DIGITS_HYPERPARAMETERS (JSON) when set."""
    return {**HYPERPARAMETERS, **json.loads(os.environ.get("DIGITS_HYPERPARAMETERS") or "{}")}


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def session() -> boto3.session.Session:
    return boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)


def client(name: str):
    """A client; AWS_ENDPOINT_URL (when set) points it at Nimbus."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    return session().client(name, endpoint_url=endpoint)


def region_name() -> str:
    return session().region_name or "us-east-1"


def account_id() -> str:
    try:
        return client("sts").get_caller_identity()["Account"]
    except Exception:  # an emulator without STS: any stable name will do
        return "000000000000"


def training_image(region: str) -> str:
    account = IMAGE_ACCOUNTS.get(region, IMAGE_ACCOUNTS["us-east-1"])
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}/{IMAGE_TAG}"


def ensure_bucket(s3, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError:
        pass
    args: dict = {"Bucket": bucket}
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    log(f"creating bucket {bucket}")
    s3.create_bucket(**args)


def pack_source() -> tuple[bytes, str]:
    """sourcedir.tar.gz of training/ (deterministic) and its content hash."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(TRAINING.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                info = tarfile.TarInfo(str(path.relative_to(TRAINING)))
                data = path.read_bytes()
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                tar.addfile(info, io.BytesIO(data))
    digest = hashlib.sha256()
    for path in sorted(TRAINING.rglob("*.py")) + sorted(TRAINING.rglob("*.txt")):
        digest.update(path.name.encode() + path.read_bytes())
    return buffer.getvalue(), digest.hexdigest()[:16]


def ensure_role(region: str) -> str:
    """A SageMaker execution role for the job (made once, with access to S3 and logs)."""
    iam = client("iam")
    try:
        return iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
    except ClientError:
        pass
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    log(f"creating role {ROLE_NAME}")
    arn = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream",
             "logs:PutLogEvents", "logs:DescribeLogStreams", "cloudwatch:PutMetricData",
             "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
             "Resource": "*"},
        ],
    }  # fmt: skip
    iam.put_role_policy(
        RoleName=ROLE_NAME, PolicyName="training", PolicyDocument=json.dumps(policy)
    )
    return arn


def job_request(name: str, source_uri: str, bucket: str, role_arn: str, region: str,
                instance_type: str, train_uri: str | None = None) -> dict:  # fmt: skip
    """CreateTrainingJob as the SageMaker Python SDK sends it for an SKLearn estimator."""
    hps = {k: json.dumps(v) for k, v in hyperparameters().items()}
    hps.update(
        sagemaker_program=json.dumps("train.py"),
        sagemaker_submit_directory=json.dumps(source_uri),
        sagemaker_region=json.dumps(region),
        sagemaker_container_log_level=json.dumps(20),
    )
    request = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "TrainingImage": training_image(region),
            "TrainingInputMode": "File",
            "MetricDefinitions": [METRIC],
        },
        "RoleArn": role_arn,
        "HyperParameters": hps,
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/{PREFIX}/output"},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
    }
    if train_uri:
        request["InputDataConfig"] = [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": train_uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ]
    return request


def wait_for_job(sagemaker, name: str, poll: float) -> dict:
    """Poll until the job ends, printing each new status, secondary status and metric."""
    seen: tuple = ()
    while True:
        job = sagemaker.describe_training_job(TrainingJobName=name)
        metrics = {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList") or []}
        now = (job["TrainingJobStatus"], job.get("SecondaryStatus"), tuple(sorted(metrics.items())))
        if now != seen:
            shown = " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
            log(f"{name}: {now[0]} / {now[1]} {shown}".rstrip())
            seen = now
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return job
        time.sleep(poll)


def train_with_job(args, s3, bucket: str, region: str, source: bytes, digest: str) -> str:
    source_key = f"{PREFIX}/source/{digest}/sourcedir.tar.gz"
    s3.put_object(Bucket=bucket, Key=source_key, Body=source)
    log(f"uploaded s3://{bucket}/{source_key}")
    sagemaker = client("sagemaker")
    name = args.job_name or f"digits-{time.strftime('%Y%m%d-%H%M%S')}"
    role = args.role_arn or ensure_role(region)
    request = job_request(
        name, f"s3://{bucket}/{source_key}", bucket, role, region, args.instance_type, args.train
    )
    sagemaker.create_training_job(**request)
    log(f"started training job {name}")
    job = wait_for_job(sagemaker, name, args.poll)
    if job["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"training job {name} {job['TrainingJobStatus']}: "
                         f"{job.get('FailureReason', '')}")  # fmt: skip
    return job["ModelArtifacts"]["S3ModelArtifacts"]


def train_locally(s3, bucket: str, digest: str) -> str:
    """Run train.py here and upload the model.tar.gz it makes (no training job service)."""
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        model_dir.mkdir()
        env = {**os.environ, "SM_MODEL_DIR": str(model_dir)}
        flags = [f"--{k}={v}" for k, v in hyperparameters().items()]
        subprocess.run(
            [sys.executable, str(TRAINING / "train.py"), *flags],
            env=env, check=True, stdout=sys.stderr,
        )  # fmt: skip
        archive = Path(tmp) / "model.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted(model_dir.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(model_dir)), recursive=False)
        key = f"{PREFIX}/output/local-{digest}/output/model.tar.gz"
        s3.upload_file(str(archive), bucket, key)
    return f"s3://{bucket}/{key}"


def default_bucket(region: str) -> str:
    return f"digits-artifacts-{account_id()}-{region}"


def run(args: argparse.Namespace) -> str:
    region = region_name()
    s3 = client("s3")
    bucket = args.bucket or default_bucket(region)
    ensure_bucket(s3, bucket, region)
    source, digest = pack_source()
    if args.local:
        url = train_locally(s3, bucket, digest)
    else:
        url = train_with_job(args, s3, bucket, region, source, digest)
    record = {"ModelDataUrl": url, "source": digest, "created": time.time()}
    s3.put_object(Bucket=bucket, Key=f"{PREFIX}/latest.json", Body=json.dumps(record).encode())
    return url


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train the digit model; print ModelDataUrl=...")
    p.add_argument(
        "--bucket", help="artifacts bucket (default digits-artifacts-<account>-<region>)"
    )
    p.add_argument("--role-arn", help="SageMaker execution role (default: make one)")
    p.add_argument("--instance-type", default="ml.m5.large")
    p.add_argument("--job-name")
    p.add_argument("--train", help="optional s3:// prefix for the train channel")
    p.add_argument("--local", action="store_true", help="train here instead of a training job")
    p.add_argument("--poll", type=float, default=float(os.environ.get("DIGITS_POLL", "2")))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    url = run(parse_args(argv))
    print(f"ModelDataUrl={url}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
