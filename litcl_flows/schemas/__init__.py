"""pydantic documents that land in the JobStore."""
