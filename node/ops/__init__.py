"""Operating a node: health and metrics endpoints, database copy, backup and restore."""
