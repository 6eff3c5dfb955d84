"""Helpers of the pipeline suite: readers of SQL, S3 and the API, expectations, loading, locks."""
