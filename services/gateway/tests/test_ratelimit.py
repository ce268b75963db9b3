"""Rate limits: per township, per client and per public caller, answered with 429 + Retry-After."""

from __future__ import annotations

from pathlib import Path

import httpx
from gateway_testkit import make_settings

from township_gateway.app import create_app
from township_gateway.ratelimit import TokenBuckets
from township_testing.devkeys import mint_token


def test_token_bucket_refills_at_its_rate() -> None:
    buckets = TokenBuckets()
    assert [buckets.take("k", rate=2, burst=3, now=0.0) for _ in range(3)] == [0, 0, 0]
    assert buckets.take("k", rate=2, burst=3, now=0.0) == 0.5
    assert buckets.take("k", rate=2, burst=3, now=0.5) == 0
    assert buckets.take("other", rate=2, burst=3, now=0.5) == 0


async def test_client_and_public_limits_answer_429_with_retry_after(
    keys: tuple[Path, Path],
) -> None:
    private, public = keys
    settings = make_settings(
        jwt_public_key_file=str(public),
        client_rate_per_second=0.01,
        client_burst=2,
        public_rate_per_second=0.01,
        public_burst=2,
    )
    app = create_app(settings)
    tok = mint_token(private, sub="busy-clerk", roles=["clerk"], township="zhaowan")
    other = mint_token(private, sub="calm-clerk", roles=["clerk"], township="zhaowan")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as c,
    ):
        path = "/api/v1/applications/01a21ded-1055-7a85-92b2-c3d25b5ede76"
        codes = [
            (await c.get(path, headers={"Authorization": f"Bearer {tok}"})).status_code
            for _ in range(3)
        ]
        assert codes[:2] == [503, 503]  # authenticated; no backend here
        limited = await c.get(path, headers={"Authorization": f"Bearer {tok}"})
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["type"].endswith("/too-many-requests")
        # another client of the same town is not affected
        ok = await c.get(path, headers={"Authorization": f"Bearer {other}"})
        assert ok.status_code == 503
        public_codes = [
            (await c.get("/public/v1/applications/ZW261127ABCDEFGH")).status_code for _ in range(3)
        ]
        assert public_codes[-1] == 429
        # Open311 clients get the spec's error array, as documented, with Retry-After
        open311 = await c.get("/open311/v2/services.json?jurisdiction_id=zhaowan")
        assert open311.status_code == 429
        assert open311.headers["content-type"] == "application/json"
        assert int(open311.headers["Retry-After"]) >= 1
        assert open311.json() == [
            {"code": 429, "description": "rate limit of this client exceeded; retry later"}
        ]


async def test_township_limit_is_shared_by_its_clients(
    keys: tuple[Path, Path], tmp_path: Path
) -> None:
    import json

    from gateway_testkit import TOWNS

    doc = json.loads(TOWNS.read_text(encoding="utf-8"))
    doc["townships"][0]["rate_limit"] = {"requests_per_second": 0.01, "burst": 3}
    towns = tmp_path / "towns.json"
    towns.write_text(json.dumps(doc), encoding="utf-8")
    private, public = keys
    app = create_app(make_settings(jwt_public_key_file=str(public), townships_file=str(towns)))
    town = doc["townships"][0]["slug"]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as c,
    ):
        codes = []
        for i in range(5):
            tok = mint_token(private, sub=f"clerk-{i}", roles=["clerk"], township=town)
            r = await c.get(
                "/api/v1/personnel/points?person=x", headers={"Authorization": f"Bearer {tok}"}
            )
            codes.append(r.status_code)
        assert codes.count(429) == 2
