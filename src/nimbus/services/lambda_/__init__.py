"""AWS Lambda: functions run in worker subprocesses (execution environments)."""
