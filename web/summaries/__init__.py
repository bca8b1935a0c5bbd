"""Trend summary pages and downloads, with server-drawn charts."""
