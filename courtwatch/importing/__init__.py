"""Importing historical court-watch records from spreadsheets (docs/import.md)."""
