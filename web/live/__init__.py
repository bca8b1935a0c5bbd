"""The live map over HTTP: the page, the first-paint endpoint, the websocket protocol and hub."""
