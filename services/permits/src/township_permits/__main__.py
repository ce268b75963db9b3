"""``python -m township_permits``."""

from township_platform.lean import server_process

server_process()

from township_permits.main import main  # noqa: E402

main()
