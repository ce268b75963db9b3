"""Gateway tests without backends: settings, dev keys and an in-process client."""

from __future__ import annotations

from pathlib import Path

import pytest

from township_testing.devkeys import ensure_dev_keys


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ensure_dev_keys(tmp_path_factory.mktemp("keys"))
