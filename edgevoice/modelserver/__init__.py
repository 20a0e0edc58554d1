"""Offline model server speaking the OpenAI Realtime protocol (GA event names).

Everything runs from models shipped inside Python packages: webrtcvad for turn
detection, pocketsphinx (bundled US English) for speech recognition, a rule-based
brain, and piper with the joe voice for speech. Public API:

* ``create_app(models=None, progress=None)`` → Starlette ASGI app
* ``load_models(progress=None)`` → ``Models`` (load once, share between apps)
* ``run_model_server(host, port)`` → serve, blocking
* ``add_cli(subparsers)`` → registers the ``model-server`` subcommand
"""

from .cli import add_cli, run_model_server
from .models import Models, load_models
from .server import create_app

__all__ = ["Models", "add_cli", "create_app", "load_models", "run_model_server"]
