"""A job that was running when the server died is Failed at the next start."""

from __future__ import annotations

import os
import time
from typing import Any

from nimbus.services.sagemaker.training import SERVER_STOPPED

from .conftest import make_submit, wait_secondary


def test_restart_marks_a_running_job_failed(fresh_nimbus: Any) -> None:
    import json

    from .conftest import TRUST, unique

    iam, s3 = fresh_nimbus.client("iam"), fresh_nimbus.client("s3")
    role = iam.create_role(RoleName="sm", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="sm", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    bucket = unique("restart")
    s3.create_bucket(Bucket=bucket)
    env = {"role": role["Role"]["Arn"], "bucket": bucket, "endpoint": fresh_nimbus.endpoint}
    submit = make_submit(fresh_nimbus.client, env)
    script = "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(300)\n"
    job = submit(script)
    sm = fresh_nimbus.client("sagemaker")
    wait_secondary(sm, job, "Training")
    pid_file = fresh_nimbus.data_dir / "sagemaker" / "training.db"
    assert pid_file.exists()
    time.sleep(0.5)
    fresh_nimbus.kill9()
    fresh_nimbus.start()
    sm = fresh_nimbus.client("sagemaker")
    desc = sm.describe_training_job(TrainingJobName=job)
    assert (desc["TrainingJobStatus"], desc["SecondaryStatus"]) == ("Failed", "Failed")
    assert desc["FailureReason"] == SERVER_STOPPED
    assert "TrainingEndTime" in desc
    # The orphaned script was ended too.
    code_dir = fresh_nimbus.data_dir / "sagemaker" / "training" / job / "code"
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            assert os.readlink(f"/proc/{pid}/cwd") != str(code_dir.resolve()), "orphan left"
        except OSError:
            continue
