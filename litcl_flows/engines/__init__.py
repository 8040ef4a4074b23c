"""Engines: custodian Jobs, handlers and validators for external codes (dp, lmp)."""
