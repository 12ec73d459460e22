"""One student, one identity: the uid a sandbox runs the student's code as, where namespaces are
unavailable and the grader is root (isolation `unprivileged-user`).

Every sandbox running at once on the machine gets a uid of its own from a range (course.yaml's
`student_uid_first` and `student_uids`), so no student can signal, trace or read another's
processes or files, and RLIMIT_NPROC counts one student only. The claim is machine-wide: one
lock file per uid in a folder only root may enter (`UID_LOCKS`), held with flock(2) for the
sandbox's life (grade-all's pool workers, nbgrader's workers and Dask workers on one machine
each claim their own; a grader that dies drops its locks with its descriptors). Claiming and
releasing a uid both sweep it: every process still running as it is killed and every file it
owns in the machine's shared temporary places (SHARED_TMP) is removed, so the next student on
that uid finds nothing of the last one's.
"""
from __future__ import annotations

import fcntl
import grp
import os
import pwd
import random
import shutil
import stat
import time

# Where the locks live: the first of these that is (or can be made) a folder of root's, closed to others.
UID_LOCKS = ("/run/autograder-uids", "/var/lib/autograder-uids", "/tmp/autograder-uids-0")
SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm")   # writable by everyone where no namespace gives the student its own


class NoIdentity(OSError):
    """No uid of the range is free (or none can be claimed safely)."""


def _lock_folder() -> str:
    for folder in UID_LOCKS:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            info = os.lstat(folder)
        except OSError:
            continue
        # a folder someone else made (in /tmp) could let them hold or fake the locks
        if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o077:
            return folder
    raise NoIdentity(f"no folder for the student uids' locks: expected one of {', '.join(UID_LOCKS)} to be a "
                     "folder owned by root with mode 0700; make one so")


def _unused(uid: int) -> bool:
    """Whether `uid` (and the group of the same number) belongs to no one on this machine."""
    try:
        pwd.getpwuid(uid)
        return False
    except KeyError:
        pass
    try:
        grp.getgrgid(uid)
        return False
    except KeyError:
        return True


class Identity:
    """A uid claimed for one sandbox, until `release`.

    Args:
        first: the range's first uid (course.yaml: student_uid_first).
        count: how many uids the range holds (course.yaml: student_uids).

    Raises:
        NoIdentity: every uid of the range is in use, or the locks' folder cannot be made safe.
    """

    def __init__(self, first: int, count: int):
        folder = _lock_folder()
        start = random.randrange(count)   # sandboxes starting together rarely contend for one lock
        for i in range(count):
            uid = first + (start + i) % count
            if not _unused(uid):
                continue
            fd = os.open(os.path.join(folder, str(uid)), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            sweep(uid)   # what a grader that died while holding it may have left
            return
        raise NoIdentity(f"all {count} student uids from {first} are in use by sandboxes running on this machine; "
                         "expected fewer sandboxes at once, or a larger range: raise student_uids in course.yaml")

    def release(self) -> None:
        """Kill what still runs as the uid, remove what it left in the shared places, free it."""
        if self._fd is None:
            return
        try:
            sweep(self.uid)
        finally:
            os.close(self._fd)
            self._fd = None

    _fd: int | None = None


def kill_all(uid: int) -> None:
    """SIGKILL every process running as `uid`: kill(-1) from a child that became `uid`, which the
    kernel sends to all of them in one pass (a fork loop cannot outrun a scan of /proc here)."""
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, 9)
            except ProcessLookupError:   # nothing ran as it
                os._exit(3)
            except BaseException:
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) == 3:
            return
        time.sleep(0.005)   # the killed are exiting: the next pass finds only what forked meanwhile


def remove_files(uid: int, places: tuple[str, ...] = SHARED_TMP) -> None:
    """Remove every file and folder `uid` owns in `places`, and in the folders there that anyone may
    write into (only there can it have made one). Its processes must be dead first."""
    todo = [p for p in places if os.path.isdir(p)]
    while todo:
        folder = todo.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                if stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    try:
                        os.unlink(entry.path)
                    except OSError:
                        pass
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & 0o002:
                todo.append(entry.path)


def sweep(uid: int) -> None:
    """Nothing of `uid` left: its processes killed, then its files in the shared places removed."""
    kill_all(uid)
    remove_files(uid)
