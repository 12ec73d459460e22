"""Run a command as in a container started with Docker's default seccomp profile (x86-64 and aarch64):

    python tests/adversarial/docker_like.py COMMAND [ARGS...]

No namespaces (unshare, setns, clone with a CLONE_NEW* flag: EPERM; clone3: ENOSYS, so C libraries
fall back to clone), no mounts (mount, umount2, pivot_root: EPERM); root stays root. So `grade`
detects `unprivileged-user` by itself, as on Gradescope. The tests' own copy of such a filter (CI
must not depend on a tool outside the checkout), built with the sandbox's BPF assembler.
"""
import errno
import os
import sys

from autograder.sandbox import seccomp

CALLS = {"x86_64": {"clone": 56, "pivot_root": 155, "mount": 165, "umount2": 166, "unshare": 272, "setns": 308,
                    "clone3": 435},
         "aarch64": {"clone": 220, "pivot_root": 41, "mount": 40, "umount2": 39, "unshare": 97, "setns": 268,
                     "clone3": 435}}
CLONE_NEW = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080


def program(machine: str) -> list[tuple[int, int, int, int]]:
    numbers = CALLS[machine]
    audit_arch = seccomp.ARCHES[machine][0]
    eperm = seccomp.SECCOMP_RET_ERRNO | errno.EPERM
    ins = [(seccomp.LD_W_ABS, 0, 0, seccomp.ARCH),
           (seccomp.JEQ_K, 1, 0, audit_arch),
           (seccomp.RET_K, 0, 0, seccomp.SECCOMP_RET_ALLOW),
           (seccomp.LD_W_ABS, 0, 0, seccomp.NR)]
    for name in ("unshare", "setns", "mount", "umount2", "pivot_root"):
        ins += [(seccomp.JEQ_K, 0, 1, numbers[name]), (seccomp.RET_K, 0, 0, eperm)]
    ins += [(seccomp.JEQ_K, 0, 1, numbers["clone3"]), (seccomp.RET_K, 0, 0, seccomp.SECCOMP_RET_ERRNO | errno.ENOSYS)]
    # the flags are clone's first argument on both (low 32 bits, little-endian)
    ins += [(seccomp.JEQ_K, 0, 3, numbers["clone"]),
            (seccomp.LD_W_ABS, 0, 0, seccomp.ARG0),
            (seccomp.JSET_K, 0, 1, CLONE_NEW),
            (seccomp.RET_K, 0, 0, eperm)]
    return ins + [(seccomp.RET_K, 0, 0, seccomp.SECCOMP_RET_ALLOW)]


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    seccomp.install_filter(program(os.uname().machine))
    os.execvp(sys.argv[1], sys.argv[1:])
