"""Packaging facts: import weight, public API, the command line."""
import subprocess
import sys

import jaxact


def test_import_does_not_pull_in_flax_or_optax():
    code = "import sys, jaxact; print(sorted(m for m in ('flax', 'optax') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_lists_only_real_public_names():
    for name in jaxact.__all__:
        assert hasattr(jaxact, name), name
    for name in jaxact.names():
        assert name in jaxact.__all__


def test_command_line_table_and_names():
    table = subprocess.run([sys.executable, "-m", "jaxact", "table"], capture_output=True, text=True, check=True)
    assert table.stdout.strip() == jaxact.table()
    names = subprocess.run([sys.executable, "-m", "jaxact", "names"], capture_output=True, text=True, check=True)
    assert "identity  (aliases: linear)" in names.stdout


def test_command_line_rejects_unknown_commands():
    bad = subprocess.run([sys.executable, "-m", "jaxact", "tabel"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice: 'tabel'" in bad.stderr
