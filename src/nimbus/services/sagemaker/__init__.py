"""Amazon SageMaker: models, endpoint configs, endpoints (hosting) and the runtime."""
