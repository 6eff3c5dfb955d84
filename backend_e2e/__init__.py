"""Backend API suite: health, smoke, flows, integrity and resilience through HTTP and SQL."""
