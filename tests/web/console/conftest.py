"""The members' live server (http://localhost:<port>, a secure context for
passkeys) and its helpers, reused for the console's tests."""

from tests.members.conftest import client, live_server, port, settings

__all__ = ["client", "live_server", "port", "settings"]
