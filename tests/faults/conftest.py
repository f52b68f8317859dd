"""
The integration harness (tests/integration/conftest.py) for these tests: its fixtures (stack,
fresh_stack, limited, user, ...), its session hook (the secrets file) and its helpers (Stack,
Client, SECRETS, LOG_DIR, ...). It is loaded under the module name fs_harness, from its own
path, so that `from conftest import ...` here means this file and nothing is imported twice.
"""
import importlib.util
import os
import sys

_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration", "conftest.py")
if "fs_harness" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("fs_harness", _path)
    sys.modules["fs_harness"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["fs_harness"])
from fs_harness import *  # noqa: E402,F401,F403  (fixtures and the session hook included)
from fs_harness import ROOT, SECRETS, LOG_DIR, BUILD_DIR, STORE, BLOB_BACKEND  # noqa: E402,F401
