"""Launchers for the embedded driver's infrastructure services."""
