"""The analysts' data contract: the articles table's columns cannot change without a schema
version bump and a README change."""

from __future__ import annotations

import re

from ingest import table
from tests.conftest import ROOT

# The contract of each schema version. Changing a column's name or type, or dropping one, needs
# a new version here, in ingest.table.SCHEMA_VERSION and in the README's column table.
CONTRACT = {
    2: [("article_id", "string"), ("url", "string"), ("canonical_url", "string"),
        ("feed_id", "string"), ("source_domain", "string"), ("title", "string"),
        ("text", "string"), ("authors", "list<item: string>"),
        ("published_at", "timestamp[us, tz=UTC]"), ("fetched_at", "timestamp[us, tz=UTC]"),
        ("language", "string"),
        ("countries", "list<item: struct<code: string, score: double>>"),
        ("regions", "list<item: string>"), ("primary_region", "string"),
        ("region_evidence", "list<item: string>"), ("content_hash", "string"),
        ("dup_cluster_id", "string"), ("is_canonical", "bool"), ("duplicate_of", "string"),
        ("similarity", "double"), ("raw_ref", "string"), ("capture", "string"),
        ("extractor", "string"), ("config_hash", "string"), ("schema_version", "int32"),
        ("dt", "string"), ("region", "string")],
}
# version 3 adds the detector's probability of the recorded language (null in older rows)
CONTRACT[3] = [*CONTRACT[2], ("language_confidence", "double")]


def test_the_schema_is_the_contract_of_its_version() -> None:
    assert table.SCHEMA_VERSION in CONTRACT, "a new schema version needs its contract here"
    got = [(f.name, str(f.type)) for f in table.SCHEMA]
    assert got == CONTRACT[table.SCHEMA_VERSION], (
        "the articles schema changed: bump ingest.table.SCHEMA_VERSION, add its contract here "
        "and update the README's column table")
    assert table.PARTITIONS == ["dt", "region"]


def test_the_readme_documents_every_column_and_the_version() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("| column | type | meaning |"):]
    section = section[:section.index("\n\n")]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    missing = {name for name, _ in CONTRACT[table.SCHEMA_VERSION]} - documented
    assert not missing, f"columns missing from the README's table: {sorted(missing)}"
    assert f"schema version {table.SCHEMA_VERSION}" in readme
