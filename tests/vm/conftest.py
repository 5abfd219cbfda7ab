"""The VM tier's tests need vivid and v4l2loopback: they run inside the guest of
tools/vm/run-tier (which sets IMP_VM_TIER=1), never in the host's test run."""

from __future__ import annotations

import os

if not os.environ.get("IMP_VM_TIER"):
    collect_ignore_glob = ["test_*.py"]
