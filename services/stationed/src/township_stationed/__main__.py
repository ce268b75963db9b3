"""``python -m township_stationed``."""

from township_platform.lean import server_process

server_process()

from township_stationed.main import main  # noqa: E402

main()
