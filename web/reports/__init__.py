"""Reports over HTTP: the JSON API and the watcher's form and report pages."""
