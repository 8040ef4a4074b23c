"""Science core: readers and writers of trajectories and engine files."""
