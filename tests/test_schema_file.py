"""schema.graphql, the SDL committed for client developers, is what the server serves: the
CI check (.ci/check-schema, `strawberry export-schema` and a diff) passes on it, and fails
with the command to regenerate it as soon as the committed file differs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

CHECK = ROOT / ".ci" / "check-schema"
COMMITTED = ROOT / "schema.graphql"


def check(committed: Path) -> subprocess.CompletedProcess[str]:
    # The strawberry CLI installed by `pip install -e .` beside this interpreter.
    env = os.environ | {"STRAWBERRY": str(Path(sys.executable).parent / "strawberry")}
    return subprocess.run(
        [str(CHECK), str(committed)], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_committed_schema_is_current() -> None:
    done = check(COMMITTED)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "type Milestone implements Node" in COMMITTED.read_text()


def test_the_check_fails_when_the_committed_schema_differs(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    # As if a field had been added since the file was exported.
    text = COMMITTED.read_text()
    assert "  completedAt: DateTime\n" in text
    stale.write_text(text.replace("  completedAt: DateTime\n", "", 1))
    done = check(stale)
    assert done.returncode == 1
    assert "+  completedAt: DateTime" in done.stdout
    assert "strawberry export-schema schema.schema:schema --output schema.graphql" in done.stderr
