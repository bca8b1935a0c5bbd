"""Jurisdictions: the county of each courthouse and its detainer policy over time."""
