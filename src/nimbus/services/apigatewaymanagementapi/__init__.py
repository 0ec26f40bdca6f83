"""API Gateway Management API: the @connections API of WebSocket APIs."""
