"""Alerts over HTTP: subscriptions, webhooks, Web Push endpoints, the coordinator's counts."""
