"""A POP topology on one machine: network namespaces, a userspace delay/loss forwarder,
and real edgevoice processes (issue 12). ``python -m tests.topology up|down|status|set``."""
