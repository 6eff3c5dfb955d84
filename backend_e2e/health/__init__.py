"""GET /health reports the API and each dependency it needs."""
