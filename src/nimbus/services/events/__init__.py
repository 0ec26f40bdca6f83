"""Amazon EventBridge: scheduled rules that fire Lambda targets."""
