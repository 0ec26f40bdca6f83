"""API Gateway HTTP APIs (v2): the control plane (provider) and the execute-api data plane."""
