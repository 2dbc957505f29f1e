"""A whole grid on one machine: the sites file, the process supervisor, `up` and `demo`."""
