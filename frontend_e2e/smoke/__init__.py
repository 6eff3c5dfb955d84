"""Smoke: every page loads cleanly, headings and navigation are right, access is guarded."""
