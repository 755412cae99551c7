"""Worktrees in a real temporary git repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from heimdall.sessions.worktree import (
    BranchExists,
    NotAGitRepo,
    WorktreeError,
    create_worktree,
    default_worktree_path,
    is_git_repo,
    repo_root,
)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "GIT_AUTHOR_NAME": "t",
                               "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@e"}).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README").write_text("hello\n")
    (root / "sub").mkdir()
    git(root, "add", "README")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_creates_a_worktree_on_a_new_branch(repo: Path) -> None:
    path = create_worktree(repo / "sub", "fix/api")
    assert path == repo.parent / "proj.worktrees" / "fix-api"
    assert (path / "README").read_text() == "hello\n"
    assert git(path, "rev-parse", "--abbrev-ref", "HEAD").strip() == "fix/api"
    assert str(path) in git(repo, "worktree", "list")
    assert git(repo, "status", "--porcelain") == ""  # the main checkout is untouched


def test_explicit_path(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "wt"
    assert create_worktree(repo, "feature", target) == target
    assert (target / "README").exists()


def test_refuses_outside_a_git_repo(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotAGitRepo) as info:
        create_worktree(plain, "x")
    assert info.value.message == f"{plain} is not inside a git repository, so it cannot have a worktree"
    assert "\n" not in info.value.message
    assert not is_git_repo(plain)


def test_refuses_existing_branch_bad_name_and_missing_dir(repo: Path, tmp_path: Path) -> None:
    create_worktree(repo, "one")
    with pytest.raises(BranchExists, match="already exists"):
        create_worktree(repo, "one")
    with pytest.raises(WorktreeError, match="not a valid branch name"):
        create_worktree(repo, "bad..name")
    with pytest.raises(WorktreeError, match="needs a branch name"):
        create_worktree(repo, "  ")
    with pytest.raises(WorktreeError, match="is not a directory"):
        create_worktree(tmp_path / "missing", "x")


def test_refuses_a_non_empty_target(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "file").write_text("x")
    with pytest.raises(WorktreeError, match="not empty"):
        create_worktree(repo, "two", target)


def test_repo_without_commits_fails_with_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(WorktreeError) as info:
        create_worktree(empty, "x")
    assert info.value.message == f"{empty} has no commits yet; commit once before making a worktree"


def test_helpers(repo: Path) -> None:
    assert repo_root(repo / "sub") == repo
    assert is_git_repo(repo)
    assert default_worktree_path(repo, "a b/../c").name == "a-b-..-c"
