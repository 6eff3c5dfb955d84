"""Data-pipeline suite: from the landing bucket to the warehouse, the API and freshness."""
