"""``nimbus up`` hook: make sure a trained model exists; print ``ModelDataUrl=s3://...``.

Runs before each deploy of this app (see src/nimbus/apps.py in the Nimbus repository). The first
time it trains the model with a SageMaker training job (scripts/bootstrap.py); later runs reuse
that model while ``training/`` is unchanged (the record ``digits/latest.json`` in the artifacts
bucket holds the URL and the source hash). If the SageMaker training service is not available it
trains in this process instead. Progress goes to stderr; only ``KEY=VALUE`` lines go to stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bootstrap

NOT_OFFERED = {"UnrecognizedClientException", "UnsupportedOperation", "UnknownOperationException"}


def not_offered(exc: ClientError) -> bool:
    """The endpoint has no SageMaker training (an emulator without it)."""
    code = exc.response.get("Error", {}).get("Code")
    return code in NOT_OFFERED or any(name in str(exc) for name in NOT_OFFERED)


def reusable(s3, bucket: str, digest: str) -> str | None:
    """The ModelDataUrl of an earlier run from the same training code, if its object exists."""
    try:
        record = json.loads(
            s3.get_object(Bucket=bucket, Key=f"{bootstrap.PREFIX}/latest.json")["Body"].read()
        )
        url = record["ModelDataUrl"]
        if record.get("source") != digest:
            return None
        model_bucket, _, key = url.removeprefix("s3://").partition("/")
        s3.head_object(Bucket=model_bucket, Key=key)
        return url
    except (ClientError, KeyError, ValueError):
        return None


def main() -> int:
    region = bootstrap.region_name()
    s3 = bootstrap.client("s3")
    bucket = bootstrap.default_bucket(region)
    bootstrap.ensure_bucket(s3, bucket, region)
    _, digest = bootstrap.pack_source()
    url = reusable(s3, bucket, digest)
    if url:
        bootstrap.log(f"reusing the trained model {url}")
    else:
        try:
            url = bootstrap.run(bootstrap.parse_args(["--bucket", bucket, "--poll", "0.5"]))
        except ClientError as exc:
            if not not_offered(exc):
                raise
            bootstrap.log(f"no SageMaker training service here ({exc}); training locally")
            url = bootstrap.run(bootstrap.parse_args(["--bucket", bucket, "--local"]))
    print(f"ModelDataUrl={url}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
