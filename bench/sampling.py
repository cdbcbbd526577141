"""A sampling profile (py-spy) of one server worker while a scenario runs.

It runs as its own extra wrk run, after the measured ones, so the sampler never perturbs the
reported numbers.
"""

import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")
_PACKAGES = (
    "customer_registry",
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "fastapi",
    "starlette",
    "pydantic",
    "uvicorn",
    "h11",
    "jwt",
    "asyncio",
    "json",
    "email_validator",
    "phonenumbers",
)


@dataclass
class Profile:
    samples: int
    by_package: list[tuple[str, float]]
    top_self: list[tuple[str, float]]
    top_inclusive: list[tuple[str, float]]


def start(pid: int, seconds: int, output: Path) -> subprocess.Popen[bytes] | None:
    if shutil.which("py-spy") is None:
        return None
    command = [
        "py-spy",
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(seconds),
        "--rate",
        "250",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(output),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _package(file: str) -> str:
    parts = Path(file).parts
    for name in _PACKAGES:
        if name in parts or file.endswith(f"/{name}.py"):
            return name
    return "other (stdlib, C)"


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for raw in stack.split(";"):
        match = _FRAME.match(raw)
        if match:
            frames.append((match["function"], match["file"]))
    return frames


def summarize(path: Path, top: int = 15) -> Profile:
    """Own time by package and function, and inclusive time by function (share of samples)."""
    by_package: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = _frames(stack)
        if not frames or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        function, file = frames[-1]
        by_package[_package(file)] += count
        own[f"{function} ({_short(file)})"] += count
        for name in {f"{f} ({_short(p)})" for f, p in frames}:
            inclusive[name] += count

    def share(counter: Counter[str], n: int) -> list[tuple[str, float]]:
        return [(name, 100 * c / max(total, 1)) for name, c in counter.most_common(n)]

    return Profile(total, share(by_package, 20), share(own, top), share(inclusive, top * 3))


def _short(file: str) -> str:
    marker = "site-packages/"
    if marker in file:
        return file.split(marker, 1)[1]
    return "/".join(Path(file).parts[-2:])
