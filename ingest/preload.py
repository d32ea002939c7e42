"""What every task process needs, loaded once before task processes are forked.

A task of Airflow's LocalExecutor runs in a process forked from an executor worker, and each
one imported the pipeline (about 0.5 s of CPU) and loaded the language model and the region
tagger's tables (about 0.6 s more) before its own work: a second of CPU per poll, extraction or
commit task, a tenth of all the CPU of a 20,000-page run (``bench/scale.py``). Importing this
module does that work once: ``scripts/stack.py`` starts the scheduler's executor workers from
a forkserver that imports it (``[scheduler] mp_start_method = forkserver``,
``mp_forkserver_preload``), so every task process inherits it copy-on-write.

Nothing here starts a thread or opens a connection (a forked process would inherit it), and
nothing raises: a settings or region-table error is logged and left to the tasks to report
(an exception here would stop the scheduler's executor from starting its workers).
"""

from __future__ import annotations

import logging

# imported for its side effect: every stage's modules (it imports them all) in sys.modules
import ingest.pipeline  # noqa: F401
from ingest import language
from ingest.config import Settings
from ingest.regions import default_tagger

log = logging.getLogger(__name__)


def warm() -> None:
    """Load the language model and the region tagger the tasks will ask for (both cached per
    process: ``default_tagger(settings.regions_path)``, as ``ingest.pipeline`` calls it)."""
    try:
        language.rank("A sentence long enough for the language model to be loaded and used.")
        default_tagger(Settings.from_env().regions_path)
    except Exception as exc:  # noqa: BLE001 - the tasks load it themselves and say what is wrong
        log.warning("preload: %s: %s (task processes will load it themselves)",
                    type(exc).__name__, exc)


warm()
