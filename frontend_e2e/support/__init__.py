"""Helpers of the browser suite: sessions, the browser log, failure artifacts, the stack lock."""
