"""Invalid rows: rejected with their reason, recorded in S3 and SQL, never dropped."""
