"""What every task process needs, imported once before task processes are forked.

A task of Airflow's LocalExecutor runs in a process forked from an executor worker, and each
one imported the pipeline (about 0.5 s of CPU) before its own work. Importing this module does
that once: ``scripts/stack.py`` starts the scheduler's executor workers from a forkserver that
imports it (``[scheduler] mp_start_method = forkserver``, ``mp_forkserver_preload``), so every
task process inherits the modules copy-on-write.

Only modules: the models only some tasks use are not loaded here. A forked process's resident
memory counts every page it inherits, so the language model (118 MiB resident) and the region
tagger's tables (38 MiB) loaded here were part of every poll and commit task's memory too (the
commit task of ``bench/scale.py`` at 40,000 pages reached 1,064 MiB); the extraction tasks,
a few per run, load them themselves (about 1 s of CPU each).

Nothing here starts a thread or opens a connection (a forked process would inherit it), and
nothing reads settings (an error there is the tasks' to report: an exception here would stop
the scheduler's executor from starting its workers).
"""

from __future__ import annotations

# imported for its side effect: every stage's modules (it imports them all) in sys.modules
import ingest.pipeline  # noqa: F401
