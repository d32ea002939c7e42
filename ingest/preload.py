"""What every task process needs, loaded once before task processes are forked.

A task of Airflow's LocalExecutor runs in a process forked from an executor worker, and each
one imported the pipeline (about 0.5 s of CPU) and loaded the language model and the region
tagger's tables (about 0.6 s more) before its own work: a second of CPU per poll, extraction or
commit task, a tenth of all the CPU of a 20,000-page run (``bench/scale.py``). Importing this
module does that work once: ``scripts/stack.py`` starts the scheduler's executor workers from
a forkserver that imports it (``[scheduler] mp_start_method = forkserver``,
``mp_forkserver_preload``), so every task process inherits it copy-on-write.

Nothing here starts a thread or opens a connection (a forked process would inherit it).
"""

from __future__ import annotations

# imported for their side effect: every stage's modules in sys.modules
import ingest.pipeline
import ingest.process
import ingest.stage  # noqa: F401
from ingest import language
from ingest.regions import default_tagger


def warm() -> None:
    """Load the language model and the default region tagger (both cached per process)."""
    language.rank("A sentence long enough for the language model to be loaded and used once.")
    default_tagger()


warm()
