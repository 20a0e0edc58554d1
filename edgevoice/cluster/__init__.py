"""The cluster plane: how the control plane finds, places on and talks to media nodes.

- ``nodeapi``   the one interface the control plane uses to reach a node
- ``local``     that interface in-process (``edgevoice serve``, the embedded default)
- ``remote``    that interface over a node's internal HTTP API (cluster secret)
- ``nodeinfo``  what a node announces about itself
- ``placement`` the pure decision of which node takes a new session
- ``directory`` where nodes are found and slots reserved: in memory or in Redis
- ``eventbus``  sessions' event streams: a node's own logs, or Redis streams
- ``heartbeat`` a node's registration in Redis, kept alive while it runs

Nothing here imports FastAPI; the node's HTTP routes live in ``signalling/``.
"""
