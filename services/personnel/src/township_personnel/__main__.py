"""``python -m township_personnel``."""

from township_platform.lean import server_process

server_process()

from township_personnel.main import main  # noqa: E402

main()
