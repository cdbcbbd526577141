"""What a run measured: settings, machine and the exact code under test."""

import argparse
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import customer_registry

ROOT = Path(__file__).parents[1]


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip()


def code_under_test() -> str:
    """Which customer_registry the servers import: the work tree (and whether it is edited)."""
    source = Path(customer_registry.__file__).resolve().parents[1]
    head = _git("rev-parse", "--short", "HEAD")
    if source != (ROOT / "src").resolve():
        return f"{source} (not this work tree; HEAD here is {head})"
    edited = _git("status", "--porcelain", "--", "src")
    return f"work tree at {head}" + (" with uncommitted changes in src/" if edited else "")


def describe(args: argparse.Namespace, stamp: str) -> dict[str, Any]:
    return {
        "stamp": stamp,
        "db": args.db,
        "customers": args.customers // args.clients * args.clients,
        "clients": args.clients,
        "seconds": args.seconds,
        "concurrency": args.levels,
        "threads": args.threads,
        "workers": args.workers,
        "code": code_under_test(),
        "tcp_nodelay_shim": not args.as_shipped,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
