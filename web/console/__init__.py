"""The responder console: a members-only live triage queue (docs/members.md)."""
