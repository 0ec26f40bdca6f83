"""Where model invocations go: the built-in model, OpenAI-compatible servers, real Bedrock."""
