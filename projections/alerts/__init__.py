"""The alert delivery projection (see projection.py)."""
