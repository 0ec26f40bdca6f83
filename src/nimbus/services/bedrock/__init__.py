"""Amazon Bedrock: the ``bedrock`` control plane and the ``bedrock-runtime`` data plane."""
