"""``python -m township_enforcement``."""

from township_platform.lean import server_process

server_process()

from township_enforcement.main import main  # noqa: E402

main()
