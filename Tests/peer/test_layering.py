"""Scripts/check-layering against the repository and against copies of it with a forbidden import added on purpose:
the check must pass on the tree as it is and fail, naming the file, the line and the rule, on each break."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "Scripts" / "check-layering"


def check(root: Path, *args):
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), *args], capture_output=True, text=True, timeout=600)


def test_the_repository_keeps_its_layering_imports_and_package_dependencies():
    result = check(ROOT)
    assert result.returncode == 0, result.stderr
    assert "targets keep the layering" in result.stdout


@pytest.fixture
def copy(tmp_path):
    shutil.copy(ROOT / "ARCHITECTURE.md", tmp_path / "ARCHITECTURE.md")
    shutil.copytree(ROOT / "Sources", tmp_path / "Sources", ignore=shutil.ignore_patterns("*.c", "*.h"))
    return tmp_path


def add_import(root: Path, target: str, module: str) -> Path:
    file = sorted((root / "Sources" / target).rglob("*.swift"))[0]
    file.write_text(f"import {module}\n" + file.read_text())
    return file


@pytest.mark.parametrize("target,module,rule", [
    ("HILRunner", "SerialIO", "HILRunner may not import SerialIO"),
    ("HILRunner", "BoardSim", "HILRunner may not import BoardSim"),
    ("OTAVerifier", "CodeSigning", "OTAVerifier may not import CodeSigning"),
    ("FlashProtocol", "Glibc", "FlashProtocol may not import Glibc"),
    ("SignerService", "Hummingbird", "SignerService may not import Hummingbird"),
    ("BoardModel", "HILRunner", "(a layer-1 target, above layer 0)"),
])
def test_a_forbidden_import_added_on_purpose_fails_the_check_naming_file_line_and_rule(copy, target, module, rule):
    assert check(copy, "--no-package").returncode == 0
    file = add_import(copy, target, module)
    result = check(copy, "--no-package")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{file.relative_to(copy)}:1: " in result.stderr and rule in result.stderr, result.stderr


def test_an_import_inside_a_block_comment_is_not_an_import(copy):
    file = sorted((copy / "Sources" / "HILRunner").rglob("*.swift"))[0]
    file.write_text("/*\nimport SerialIO\n*/\n" + file.read_text())
    assert check(copy, "--no-package").returncode == 0


def test_a_target_missing_from_the_table_is_named(copy):
    (copy / "Sources" / "Gadget").mkdir()
    (copy / "Sources" / "Gadget" / "Gadget.swift").write_text("import Foundation\n")
    result = check(copy, "--no-package")
    assert result.returncode == 1 and "Sources/Gadget: a target ARCHITECTURE.md's table does not list" in result.stderr, result.stderr
