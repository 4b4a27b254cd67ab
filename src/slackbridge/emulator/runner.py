"""``slackbridge emulator``: load the seed, print what is in it and where to reach it, serve."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from slackbridge.emulator.app import create_app
from slackbridge.emulator.ratelimit import HISTORY_PROFILES
from slackbridge.emulator.seed import SeedError, build_state, default_seed, describe_seed, load_seed

__all__ = ["run_emulator"]


def _port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, or None when it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use; stop that process or pass --port"
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def run_emulator(
    *,
    host: str,
    port: int,
    seed_path: Path | None,
    speed: float,
    rate_limits: bool,
    console: Console,
    history_limits: str = "default",
    err_console: Console,
) -> int:
    """Serve the emulator until interrupted; returns the process exit code."""
    import uvicorn

    if speed <= 0:
        err_console.print("[red]Error:[/] --speed must be greater than 0 (e.g. 1, or 60).")
        return 2
    history_profile = history_limits.replace("-", "_")
    if history_profile not in HISTORY_PROFILES:
        err_console.print("[red]Error:[/] --history-limits must be default or non-marketplace.")
        return 2
    if not 0 < port < 65536:
        err_console.print("[red]Error:[/] --port must be between 1 and 65535.")
        return 2
    try:
        seed = load_seed(seed_path) if seed_path else default_seed()
        state = build_state(seed, speed=speed, rate_limits=rate_limits)
    except SeedError as exc:
        err_console.print(f"[red]Error:[/] {escape(str(exc))}")
        err_console.print("Fix the seed file, or leave out --seed to use the default seed.")
        return 2
    problem = _port_problem(host, port)
    if problem:
        err_console.print(f"[red]Error:[/] {escape(problem)}.")
        return 2
    link_host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    base = f"http://{link_host}:{port}"
    state.base_url = base
    app = create_app(state, seed=seed, history_limits=history_profile)

    console.print(describe_seed(state))
    urls = Table(title="Slack emulator", title_justify="left", show_header=False)
    urls.add_column()
    urls.add_column()
    urls.add_row("Web UI", f"{base}/")
    urls.add_row("Web API (SLACKBRIDGE_SLACK_API_URL)", f"{base}/api/")
    urls.add_row("Slack URL (SLACKBRIDGE_SLACK_URL)", base)
    urls.add_row("Control API", f"{base}/_emulator/state")
    urls.add_row("Speed", f"x{speed:g}")
    urls.add_row("Rate limits", "on" if rate_limits else "off")
    urls.add_row("History limits", history_profile.replace("_", "-"))
    console.print(urls)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    return 0
