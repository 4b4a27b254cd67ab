"""The runtime built by the composition: its per-process state belongs to it alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from slackbridge.compose import PARTS, build_runtime, parts_named
from slackbridge.runtime import Gateway, Slot
from slackbridge.settings import Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, public_url="http://127.0.0.1:1", apps=[], webhooks=[])


class _Counter:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.count = 0


_COUNTER: Slot[_Counter] = Slot("counter", _Counter)


async def test_two_runtimes_on_one_store_keep_their_own_state(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with build_runtime(settings) as one, build_runtime(settings) as two:
        assert one.db.url == two.db.url
        assert _COUNTER.peek(one) is None  # made on first use only
        _COUNTER.of(one).count += 1
        assert _COUNTER.of(one).count == 1
        assert _COUNTER.of(one).gateway is one
        assert _COUNTER.of(two).count == 0
        assert one.handoff is not two.handoff
        assert one.elector is not two.elector
        assert one.elector.holder == one.instance_id
        assert one.backlogs is not two.backlogs


async def test_the_composition_names_its_parts(tmp_path: Path) -> None:
    names = [part.name for part in PARTS]
    assert len(set(names)) == len(names)
    assert names[0] == "slackbridge.cluster"  # joins the cluster before anything starts
    chosen = parts_named(["slackbridge.cluster", PARTS[1]])
    assert chosen == [PARTS[0], PARTS[1]]
    with pytest.raises(KeyError, match=r"slackbridge\.cluster"):  # the message lists the parts
        parts_named(["slackbridge.nowhere"])
