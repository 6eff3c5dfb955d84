"""The seeded historic day: queryable, and its bars agree with the raw trades."""
