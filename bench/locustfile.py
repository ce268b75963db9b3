"""Locust: a realistic mixed day at the service halls of several towns.

Run by bench/run.py from its own tool venv (.tools/bench); reads BENCH_LOCUST_CONFIG, a JSON
file with per-town tokens (clerk, approver), known receipt codes, and the API's paths (so
tasks whose endpoint is not there yet are skipped). Self-contained: locust + stdlib only.
"""

from __future__ import annotations

import json
import os
import random
import uuid

from locust import HttpUser, between, task

CONFIG = json.loads(open(os.environ["BENCH_LOCUST_CONFIG"], encoding="utf-8").read())
TOWNS: dict = CONFIG["towns"]
PATHS: set = set(CONFIG["paths"])

NEWBORN = {
    "bundle": "newborn",
    "applicant": {"name": "王小明", "id_number": "", "phone": "13912345678"},
    "materials": [
        {"code": "birth-certificate", "name": "出生医学证明"},
        {"code": "household-register", "name": "父母户口簿"},
    ],
    "channel": "window",
}


class TownUser(HttpUser):
    """One member of staff or the public, bound to one town."""

    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.town = random.choice(sorted(TOWNS))
        cfg = TOWNS[self.town]
        self.clerk = {"Authorization": f"Bearer {cfg['clerk']}"}
        self.approver = {"Authorization": f"Bearer {cfg['approver']}"}
        self.receipts = list(cfg["receipts"])
        self.mine: list[str] = []

    @task(3)
    def intake(self) -> None:
        """A window clerk takes a newborn bundle."""
        headers = {**self.clerk, "Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(
            "/api/v1/applications",
            json=NEWBORN,
            headers=headers,
            name="intake",
            catch_response=True,
        ) as r:
            if r.status_code == 201:
                data = r.json()
                self.receipts.append(data["receipt_code"])
                self.mine += [a["id"] for a in data["applications"]]
                r.success()
            else:
                r.failure(f"status {r.status_code}")

    @task(5)
    def review(self) -> None:
        """An approver opens an application of the town (and its queue, if there is one)."""
        if self.mine:
            self.client.get(
                f"/api/v1/applications/{random.choice(self.mine)}",
                headers=self.approver,
                name="review: application",
            )
        if "/api/v1/applications" in PATHS:
            self.client.get(
                "/api/v1/applications?page_size=20",
                headers=self.approver,
                name="review: queue",
            )

    @task(4)
    def public_lookup(self) -> None:
        """The public follows an application by its receipt code, or reads the catalogue."""
        if self.receipts and random.random() < 0.7:
            self.client.get(
                f"/public/v1/applications/{random.choice(self.receipts)}",
                name="public: status",
            )
        else:
            self.client.get(f"/public/v1/townships/{self.town}/catalogue", name="public: catalogue")

    @task(1)
    def complaint(self) -> None:
        """A resident files a complaint through Open311 (when the endpoint exists)."""
        path = "/open311/v2/requests.json"
        if path not in PATHS:
            return
        self.client.post(
            path,
            data={
                "service_code": "noise",
                "description": "夜间施工噪音扰民",
                "jurisdiction_id": self.town,
                "lat": "30.0",
                "long": "103.0",
            },
            name="complaint: open311",
        )
