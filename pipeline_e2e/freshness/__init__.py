"""Upload-to-queryable latency."""
