"""User journeys across several endpoints: auth, watchlists, uploads, exports, many users at once."""
