"""Launchpad and JobStore from settings (embedded or MongoDB), and queries."""
