"""``slackbridge`` as a separate process, as an operator runs it against a gateway's data
directory: none of this process's ``SLACKBRIDGE_*`` settings leak in, output is wide and plain."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

__all__ = ["run_cli"]


async def run_cli(data_dir: Path, *args: str, **settings: str) -> tuple[int, str, str]:
    """``slackbridge *args`` with ``SLACKBRIDGE_DATA_DIR=data_dir`` and ``settings`` (more
    ``SLACKBRIDGE_*`` variables): its exit code, stdout and stderr."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACKBRIDGE_")},
        "SLACKBRIDGE_DATA_DIR": str(data_dir),
        "COLUMNS": "200",
        "NO_COLOR": "1",
        **settings,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "slackbridge.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()
