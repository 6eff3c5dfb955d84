"""/pipeline/status against the database."""
