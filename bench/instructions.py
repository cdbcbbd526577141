"""Instructions per request of a few Horizon routes, counted by callgrind, this tree against
an older commit: a before/after comparison that other processes on the machine cannot move.

Each route runs in a process of its own on a SQLite file migrated beforehand (the database's
work is in the count: SQLite runs in the process), warmed up by three calls; only the
measured calls are counted (they run inside libc's ``qsort``, which callgrind is told to
collect alone), not start-up or shutdown. The other commit is checked out into a temporary
git worktree and run with this tree's Python environment.

    python -m bench.instructions --against 6c4d674 [--requests 20] [--routes "Horizon GET"]

About four minutes per route and tree on a busy machine (valgrind runs Python 50x slower).
"""

import argparse
import asyncio
import ctypes
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
ROUTES = ("Horizon GET", "Horizon GET company", "Horizon PUT update", "Horizon PUT create")


def _company(person: bytes) -> bytes:
    company = json.loads(person)
    del company["person"]
    company.update(type="Company", company={"name": "Acme", "organizationNumber": "998877665"})
    company["address"]["countryCode"] = "SE"
    return json.dumps(company).encode()


def _calls(app: Any, token: str, key: str) -> dict[str, Any]:
    from bench.requestcost import SEED, _asgi_call, _routes

    bearer = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    person = (SEED / "horizon_put_request.json").read_bytes()
    base = "/customer/v1/clients/7/customers/"
    numbers = itertools.count()

    async def create() -> int:
        return await _asgi_call(app, "PUT", f"{base}new-{next(numbers)}", bearer, person)()

    return {
        **_routes(app, token, key, 7),
        "Horizon PUT create": create,
        "Horizon GET company": _asgi_call(app, "GET", base + "co", bearer, b""),
        "company": _asgi_call(app, "PUT", base + "co", bearer, _company(person)),
    }


async def _prepared(database: str, key_file: str, route: str) -> Any:
    from bench.requestcost import _token
    from customer_registry.app import create_app
    from customer_registry.auth import credentials
    from customer_registry.config import Settings

    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}", key_file=Path(key_file))
    app = create_app(settings)
    async with app.state.runtime.database.transaction() as conn:
        issued = await credentials.create_credential(conn, [7], "bench")
    calls = _calls(app, await _token(app, issued), issued.subscription_key)
    for written in ("Horizon PUT unchanged", "Subscriptions POST", "company"):
        assert await calls[written]() < 300
    for _ in range(3):
        await calls[route]()
    return calls[route]


async def _run(call: Any, requests: int) -> None:
    for _ in range(requests):
        assert await call() < 300


def measured(database: str, key_file: str, route: str, requests: int) -> None:
    """The measured process (under callgrind): ``requests`` calls of ``route``."""
    loop = asyncio.new_event_loop()
    call = loop.run_until_complete(_prepared(database, key_file, route))

    def compare(_a: Any, _b: Any) -> int:
        loop.run_until_complete(_run(call, requests))
        return 0

    comparator = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(compare)
    pair = (ctypes.c_int * 2)(1, 2)
    ctypes.CDLL(None).qsort(pair, 2, ctypes.sizeof(ctypes.c_int), comparator)


def _count(tree: Path, work: Path, route: str, requests: int) -> int:
    database, key_file, out = work / "run.db", work / "bench.key", work / "callgrind.out"
    for stale in work.glob("run.db*"):
        stale.unlink()
    database.write_bytes((work / "migrated.db").read_bytes())
    code = (
        "import sys; from bench.instructions import measured; "
        "measured(*sys.argv[1:4], int(sys.argv[4]))"
    )
    command = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=*qsort*",
               f"--callgrind-out-file={out}", sys.executable, "-c", code,
               str(database), str(key_file), route, str(requests)]  # fmt: skip
    subprocess.run(command, cwd=ROOT, env=_env(tree), capture_output=True, check=True)
    found = re.search(r"^summary: (\d+)", out.read_text(), re.M)
    assert found is not None, "callgrind wrote no summary"
    return int(found.group(1)) // requests


def _env(tree: Path) -> dict[str, str]:
    """The tree's package, with this tree's bench (the older tree may have none)."""
    return {**os.environ, "PYTHONPATH": f"{tree / 'src'}:{ROOT}"}


def _migrate(tree: Path, work: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from customer_registry import migrations; "
        "migrations.upgrade(sys.argv[1], key_file=Path(sys.argv[2]))"
    )
    url = f"sqlite+aiosqlite:///{work / 'migrated.db'}"
    subprocess.run([sys.executable, "-c", code, url, str(work / "bench.key")],
                   cwd=tree, env=_env(tree), capture_output=True, check=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the commit to compare with")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--routes", default=",".join(ROUTES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        older = base / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(older), args.against],
                       cwd=ROOT, capture_output=True, check=True)  # fmt: skip
        try:
            _report(base, older, args.against, args.routes.split(","), args.requests)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(older)], cwd=ROOT)


def _report(base: Path, older: Path, against: str, routes: list[str], requests: int) -> None:
    trees = {against: older, "this tree": ROOT}
    for name, tree in trees.items():
        (base / name.replace(" ", "-")).mkdir()
        _migrate(tree, base / name.replace(" ", "-"))
    sys.stdout.write(f"| route | {against}: instructions/request | this tree | ratio |\n")
    sys.stdout.write("|---|--:|--:|--:|\n")
    for route in routes:
        old, new = (
            _count(tree, base / name.replace(" ", "-"), route, requests)
            for name, tree in trees.items()
        )
        sys.stdout.write(f"| {route} | {old:,} | {new:,} | {new / old:.3f} |\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
