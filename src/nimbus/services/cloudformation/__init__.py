"""CloudFormation: stacks deployed by calling the other providers' own operations."""
