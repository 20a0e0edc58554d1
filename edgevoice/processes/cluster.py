"""What every cluster process needs, checked before it starts."""

from __future__ import annotations

from ..cluster.errors import ClusterConfigError
from ..signalling.settings import Settings


def require_cluster(settings: Settings, role: str, keys_in_store: int = 0) -> None:
    """Raise ClusterConfigError saying what to set, unless ``role`` can join a cluster."""
    missing = []
    if not settings.redis_url:
        missing.append("--redis-url (or EDGEVOICE_REDIS_URL)")
    if not settings.cluster_secret:
        missing.append("EDGEVOICE_CLUSTER_SECRET (the same on every node and signalling)")
    if role == "signalling" and not settings.api_key and not keys_in_store:
        missing.append(
            "EDGEVOICE_API_KEY or a key made with `edgevoice keys create` (the same on "
            "every signalling instance: a per-process random key would differ between them)"
        )
    if missing:
        raise ClusterConfigError(f"edgevoice {role} needs " + " and ".join(missing))
