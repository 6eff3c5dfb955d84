"""Flows: user journeys through the web app, checked against the API and the database."""
