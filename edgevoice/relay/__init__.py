"""``edgevoice relay``: one public UDP address in front of many nodes.

Answers advertise the relay's address for every node; the relay reads only the STUN
header and USERNAME of a caller's binding request to learn which node (and which of its
sockets) owns the session, then forwards by the caller's address and port from a table.
It never decrypts anything.

- ``stun``    the pure parsing of a binding request's USERNAME
- ``answer``  the pure SDP munging a node applies to advertise the relay
- ``routes``  where a session's node socket is found (Redis), and flows kept for restarts
- ``server``  the UDP forwarding itself
"""
