"""Offline evaluation: metrics (pure functions), data sets, runners and reports."""
