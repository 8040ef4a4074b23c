"""Build whole study Flows from a validated study spec."""
