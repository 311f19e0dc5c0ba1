"""Home's backend checks for cloud backends: no call without AWS configuration, one short call otherwise,
remembered for a while, and any SDK failure shown as unreachable rather than raised."""

from __future__ import annotations

import pytest

from services import overview as ov


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    ov._probe_cache.clear()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-2")


def test_missing_aws_configuration_is_reported_without_calling(no_aws_credentials: None) -> None:
    calls: list[int] = []

    def probe() -> tuple[str, str]:
        calls.append(1)
        return "ok", ""

    check = ov.probe_check("storage", "dynamodb (notelens)", probe)
    assert check.status == "missing" and "credentials" in check.detail
    assert calls == []


def test_a_probe_is_asked_once_per_ttl_and_failures_are_unreachable(aws_env: None,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def probe() -> tuple[str, str]:
        calls.append(1)
        raise ConnectionError("no route")

    first = ov.probe_check("queue", "sqs", probe)
    second = ov.probe_check("queue", "sqs", probe)
    assert (first.status, first.detail) == ("unreachable", "ConnectionError")
    assert second == first and len(calls) == 1
    monkeypatch.setattr(ov, "PROBE_TTL_S", 0.0)
    ov.probe_check("queue", "sqs", probe)
    assert len(calls) == 2


def test_overview_uses_probes_for_cloud_components(aws_env: None, app) -> None:  # type: ignore[no-untyped-def]
    o = ov.overview(app.store, app.settings, {"extraction": "local", "storage": "dynamodb (t)", "search": "sqlite"},
                    probes={"storage": lambda: ("ok", "ACTIVE")})
    by = {c.component: c for c in o.checks}
    assert (by["storage"].status, by["storage"].detail) == ("ok", "ACTIVE")
    assert by["search"].status == "ok"
