"""Git worktrees for tabs that should not step on each other's files.

A session can run in its own checkout on a new branch (`git worktree add -b <branch> <path>`),
so two agents editing the same repository never fight over the working tree. Worktrees go next to
the repository, in `<repo>.worktrees/<branch>`: outside the repo (no stray nested checkout in
`git status`), easy to find, and removable with `git worktree remove`.

Every failure is a `WorktreeError` with a one-line message the dialog can show as is.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

GIT_TIMEOUT_SECONDS = 30


class WorktreeError(Exception):
    """A worktree could not be made; `message` is one line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAGitRepo(WorktreeError):
    pass


class GitMissing(WorktreeError):
    pass


class BranchExists(WorktreeError):
    pass


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise GitMissing("git is not installed (not found on PATH), so no worktree can be made")
    try:
        return subprocess.run(
            [git, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            env=None,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise WorktreeError(f"git {args[0]} took longer than {GIT_TIMEOUT_SECONDS} s") from None
    except OSError as exc:
        raise WorktreeError(f"could not run git: {exc}") from None


def _error_line(text: str) -> str:
    """git's own reason: the `fatal:`/`error:` line (progress lines come first), else the last."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return re.sub(r"^(fatal|error):\s*", "", line)
    return lines[-1] if lines else "unknown error"


def repo_root(directory: str | Path) -> Path:
    """The top of the git checkout containing `directory`, or `NotAGitRepo`."""
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise WorktreeError(f"{path} is not a directory")
    result = _git(["rev-parse", "--show-toplevel"], path)
    if result.returncode != 0:
        raise NotAGitRepo(f"{path} is not inside a git repository, so it cannot have a worktree")
    return Path(result.stdout.strip())


def is_git_repo(directory: str | Path) -> bool:
    try:
        repo_root(directory)
    except WorktreeError:
        return False
    return True


def default_worktree_path(root: Path, branch: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", branch).strip("-.") or "worktree"
    return root.parent / f"{root.name}.worktrees" / safe


def create_worktree(repo_dir: str | Path, branch: str, path: str | Path | None = None) -> Path:
    """Create `branch` from HEAD in a new worktree and return its directory."""
    root = repo_root(repo_dir)
    branch = branch.strip()
    if not branch:
        raise WorktreeError("the new worktree needs a branch name")
    check = _git(["check-ref-format", "--branch", branch], root)
    if check.returncode != 0:
        raise WorktreeError(f"{branch!r} is not a valid branch name")
    if _git(["rev-parse", "--verify", "--quiet", "HEAD"], root).returncode != 0:
        raise WorktreeError(f"{root} has no commits yet; commit once before making a worktree")
    exists = _git(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], root)
    if exists.returncode == 0:
        raise BranchExists(f"branch {branch!r} already exists; pick a new name")
    target = Path(path).expanduser() if path else default_worktree_path(root, branch)
    if target.exists() and any(target.iterdir()):
        raise WorktreeError(f"{target} already exists and is not empty")
    target.parent.mkdir(parents=True, exist_ok=True)
    result = _git(["worktree", "add", "-b", branch, str(target)], root)
    if result.returncode != 0:
        raise WorktreeError(f"git worktree add failed: {_error_line(result.stderr)}")
    return target
