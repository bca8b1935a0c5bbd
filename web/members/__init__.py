"""Team members on the web: passkey sign-in, sessions, CSRF, the members page."""
