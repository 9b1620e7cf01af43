"""The reports here are not run by sybil with the rest of docs/: each reproducer fails where its bug
shows, on purpose. ``tests/test_upstream_reports.py`` runs them, expecting the failure only in the
environments that the report's deviation covers."""

collect_ignore_glob = ["*.md"]
