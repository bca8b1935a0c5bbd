"""Infrastructure: settings, the database, logs, schedules and the event log's positions."""
