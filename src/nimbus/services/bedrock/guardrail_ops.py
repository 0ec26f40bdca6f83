class GuardrailOperations:
    pass
