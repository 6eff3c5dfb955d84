"""Browser suite: the web frontend in a real Chromium, against the real API."""
