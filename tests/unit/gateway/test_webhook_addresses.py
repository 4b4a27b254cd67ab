"""Webhooks are refused for link-local and cloud metadata addresses, as written and as resolved
(through an injected resolver: no network), and allowed for loopback and private ones."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from slackbridge.product.endpoints import EndpointConfigError, configured_endpoints
from slackbridge.product.webhook_addresses import (
    RefusedAddress,
    refused_address,
    refused_host,
    refused_resolved,
    refused_url,
    vetted_addresses,
)
from slackbridge.settings import Settings, WebhookEndpointConfig


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "169.254.0.1",
        "[fe80::1]",
        "fe80::1%eth0",
        "[fd00:ec2::254]",
        "100.100.100.200",
        "192.0.0.192",
        "[::ffff:169.254.169.254]",
        "[64:ff9b::a9fe:a9fe]",
        "2852039166",  # 169.254.169.254 written as one number
        "0xa9fea9fe",
        "metadata.google.internal",
        "METADATA.GOOGLE.INTERNAL.",
        "metadata.goog",
        "metadata.azure.com",
        "instance-data.ec2.internal",
        "metadata",
        "metadata.tencentyun.com",
    ],
)
def test_metadata_and_link_local_hosts_are_refused(host: str) -> None:
    assert refused_host(host) is not None


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "10.0.0.7",
        "192.168.1.20",
        "172.16.0.3",
        "100.64.0.1",
        "[fd12:3456::1]",
        "product.internal",
        "metadata-service.example.com",
        "hooks.example.com",
    ],
)
def test_loopback_private_and_public_hosts_are_allowed(host: str) -> None:
    assert refused_host(host) is None


def test_refused_address_explains() -> None:
    why = refused_address(ipaddress.ip_address("169.254.169.254"))
    assert why == "169.254.169.254 is a link-local or cloud metadata address"
    assert refused_url("http://user:pw@169.254.169.254:80/latest?x=1") is not None
    assert refused_url("https://product.example/hooks") is None


class _Resolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        if host not in self.answers:
            raise OSError(f"unknown host {host}")
        if not host.isascii():
            raise UnicodeError("label too long")
        return self.answers[host]


async def test_a_name_resolving_to_a_metadata_address_is_refused() -> None:
    resolver = _Resolver(
        {
            "sneaky.example": ["10.0.0.1", "169.254.169.254"],
            "fine.example": ["10.0.0.1", "::1"],
            "v6.example": ["fd00:ec2::254"],
        }
    )
    why = await refused_resolved("https://sneaky.example/hook", resolver)
    assert (
        why == "sneaky.example resolves to 169.254.169.254, a link-local or cloud metadata address"
    )
    assert await refused_resolved("http://v6.example:8080/", resolver) is not None
    assert await refused_resolved("https://fine.example/hook", resolver) is None
    # A name that does not resolve fails later, as the request; it is not "refused".
    assert await refused_resolved("https://nowhere.example/", resolver) is None
    resolver.answers["bad-\u00e9.example"] = []
    assert await refused_resolved("https://bad-\u00e9.example/", resolver) is None
    assert ("sneaky.example", 443) in resolver.asked and ("v6.example", 8080) in resolver.asked


async def test_literal_addresses_and_known_names_are_not_resolved() -> None:
    resolver = _Resolver({})
    assert await refused_resolved("http://127.0.0.1:8002/hooks", resolver) is None
    assert await refused_resolved("http://169.254.169.254/", resolver) is not None
    assert await refused_resolved("http://metadata.google.internal/", resolver) is not None
    assert resolver.asked == []


async def test_vetted_addresses_are_what_a_connection_may_use() -> None:
    resolver = _Resolver(
        {
            "fine.example": ["10.0.0.1", "::1"],
            "sneaky.example": ["10.0.0.1", "::ffff:169.254.169.254"],
            "empty.example": [],
        }
    )
    assert await vetted_addresses("fine.example", 443, resolver) == ["10.0.0.1", "::1"]
    with pytest.raises(
        RefusedAddress, match=r"sneaky\.example resolves to ::ffff:a9fe:a9fe, a link-local"
    ):
        await vetted_addresses("sneaky.example", 443, resolver)
    # A literal is its own address (normalised as the resolver would), never resolved.
    assert await vetted_addresses("2130706433", 80, resolver) == ["127.0.0.1"]
    with pytest.raises(RefusedAddress, match="link-local"):
        await vetted_addresses("169.254.169.254", 80, resolver)
    with pytest.raises(RefusedAddress, match="metadata"):
        await vetted_addresses("metadata.google.internal", 80, resolver)
    with pytest.raises(OSError, match="unknown host"):
        await vetted_addresses("nowhere.example", 80, resolver)
    with pytest.raises(OSError, match="no address"):
        await vetted_addresses("empty.example", 80, resolver)
    resolver.answers["bad-\u00e9.example"] = ["10.0.0.1"]
    with pytest.raises(OSError, match="can't be resolved"):
        await vetted_addresses("bad-\u00e9.example", 80, resolver)
    asked = [host for host, _port in resolver.asked]
    assert "2130706433" not in asked and "169.254.169.254" not in asked


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data", "http://metadata.google.internal/x"]
)
def test_configuration_refuses_metadata_urls_unless_allowed(tmp_path: Path, url: str) -> None:
    with pytest.raises(EndpointConfigError, match="SLACKBRIDGE_WEBHOOK_ALLOW_LINK_LOCAL"):
        configured_endpoints(Settings(data_dir=tmp_path, webhook_url=url))
    with pytest.raises(EndpointConfigError, match="is refused"):
        configured_endpoints(Settings(data_dir=tmp_path, webhooks=[WebhookEndpointConfig(url=url)]))
    allowed = Settings(data_dir=tmp_path, webhook_url=url, webhook_allow_link_local=True)
    assert [c.url for c in configured_endpoints(allowed)] == [url]


def test_configuration_errors_do_not_quote_credentials(tmp_path: Path) -> None:
    url = "http://bob:hunter2@169.254.169.254/?token=t0k3n"
    with pytest.raises(EndpointConfigError) as caught:
        configured_endpoints(Settings(data_dir=tmp_path, webhook_url=url))
    assert "hunter2" not in str(caught.value) and "t0k3n" not in str(caught.value)
    assert "http://***@169.254.169.254/?***" in str(caught.value)
