"""The worker killed, the database or the object store away: nothing lost, nothing doubled."""
