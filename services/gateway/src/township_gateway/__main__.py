"""``python -m township_gateway``."""

from township_platform.lean import server_process

server_process()

from township_gateway.main import main  # noqa: E402

main()
