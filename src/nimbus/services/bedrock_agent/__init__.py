"""Agents for Amazon Bedrock (botocore ``bedrock-agent``): prompt management."""
