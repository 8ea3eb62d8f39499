"""Receiving activities: the HTTP gate, the processing steps, and one handler per type."""
