"""Services stopped, killed or restarted under the API: it reports it and recovers by itself."""
