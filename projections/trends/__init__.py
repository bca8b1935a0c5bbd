"""Trends: daily count tables, the summaries computed from them, and their publication."""
