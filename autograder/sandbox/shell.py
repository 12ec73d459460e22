"""The student's cells run as a Jupyter kernel runs them: by IPython's own `InteractiveShell`.

Cell magics (`%%time`, `%%capture`, `%%writefile`), line magics, `display`, `get_ipython()`, `x?`
and shell escapes behave as in a kernel. Copied next to `worker.py` (like `wire.py`) and imported
before any student code runs; it imports only the standard library and IPython. The shell runs
in the student's own process, so nothing it holds gives their code more than it already has.

Where it differs from ipykernel's shell, it is for grading (docs/notebooks.md has the table):
no history file and no IPython profile outside the scratch folder, tracebacks reported to the
grader rather than printed, `%pip`/`!pip` not run, shell escapes piped into the student's output
(no pseudo-terminal: the sandbox has none), displays as text.
"""
import contextlib
import os
import re
import subprocess
import sys

from IPython.core.compilerop import CachingCompiler
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

# Installing packages needs the network, which the sandbox does not have.
_INSTALL_COMMAND = re.compile(r"^\s*(?:(?:sudo\s+)?(?:pip3?|conda|mamba|micromamba|uv)\b|\S*python3?\S*\s+-m\s+pip\b)")


def _not_installed(command: str) -> None:
    print(f"Note: `{command.strip()[:200]}` was not run: packages cannot be installed while your notebook is graded "
          "(no network). Use the packages the assignment lists; they are installed already.", file=sys.stderr)


class _CellCompiler(CachingCompiler):
    """Names each cell's code `<cell N>` (N: the cell's index in the notebook), the name the
    grader's notes, tracebacks and interrupts read (`channel.last_line`)."""

    index = "?"

    def get_code_name(self, raw_code, transformed_code, number):
        return f"<cell {self.index}>"


# Line magics that install packages: they say so and do nothing.
_PACKAGE_MAGICS = ("pip", "conda", "mamba", "micromamba", "uv")


class GradingShell(InteractiveShell):
    """IPython's shell without a kernel, as the sandbox runs it (see the module's docstring)."""

    compiler_class = _CellCompiler

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.shown_errors = []   # exceptions a magic caught and showed (`%%capture` keeps its cell's)
        self.display_formatter.active_types = ["text/plain"]   # the output is text: no PNG made per figure
        for name in _PACKAGE_MAGICS:
            self.register_magic_function(lambda line, name=name: _not_installed(f"%{name} {line}"), "line", name)

    def run(self, source: str, index) -> BaseException | None:
        """Run one cell as a kernel does (history, `Out`, displays, post-execute hooks).

        Returns:
            The exception the cell raised (or one a magic in it caught and showed), or None.
        """
        if not os.path.isdir(self.profile_dir.location):
            # started in a fork server: this forked sandbox's scratch folder is a fresh one
            os.makedirs(self.profile_dir.location, exist_ok=True)
            self.profile_dir.check_dirs()
        self.compile.index = index
        self.shown_errors = []
        result = self.run_cell(source, store_history=True)
        error = result.error_before_exec or result.error_in_exec
        return error if error is not None else (self.shown_errors[0] if self.shown_errors else None)

    # The grader reports a failed cell to the student (a note naming the cell and the exception);
    # printed here it would only fill the output that the limits cap.
    def showtraceback(self, exc_tuple=None, *args, **kwargs):
        error = exc_tuple[1] if exc_tuple else sys.exc_info()[1]
        if error is not None:
            self.shown_errors.append(error)

    def showsyntaxerror(self, *args, **kwargs):
        self.showtraceback()

    def showindentationerror(self):
        self.showtraceback()

    def _tee(self, channel):
        # IPython keeps a copy of every output in memory for `%history -o`: unbounded where the
        # grader caps what it keeps
        return contextlib.nullcontext()

    def enable_gui(self, gui=None):
        """No GUI event loop in a sandbox (`%gui qt` does nothing)."""

    def enable_matplotlib(self, gui=None):
        """`%matplotlib` with any backend: the inline one (non-GUI, figures closed after each cell,
        as in a kernel); a GUI backend or ipympl's widget cannot show anything while grading.
        Where matplotlib cannot resolve the inline backend (an environment without its package
        metadata), the sandbox's Agg stays: the cell still runs, as its figures do not count."""
        try:
            return super().enable_matplotlib("inline")
        except Exception:
            return "agg", None

    def system_piped(self, cmd):
        """`!cmd`: its output (stdout and stderr) streamed into the cell's output, as a kernel
        pipes it; the exit code in `_exit_code`. Without a pseudo-terminal (the sandbox has none)."""
        if cmd.rstrip().endswith("&"):
            raise OSError("Background processes not supported.")
        cmd = self.var_expand(cmd, depth=1)
        if _INSTALL_COMMAND.match(cmd):
            _not_installed(f"!{cmd}")
            self.user_ns["_exit_code"] = 1
            return
        process = subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        try:
            with process.stdout:
                for line in iter(process.stdout.readline, b""):
                    sys.stdout.write(line.decode("utf-8", "replace"))
            code = process.wait()
        except KeyboardInterrupt:
            process.kill()
            process.wait()
            raise
        self.user_ns["_exit_code"] = code   # killed by a signal: minus its number, as IPython has it
        if self.system_raise_on_error and code != 0:
            raise subprocess.CalledProcessError(code, cmd)

    system = system_piped

    def getoutput(self, cmd, split=True, depth=0):
        """`x = !cmd`: its output as IPython's SList (or LSString), through a pipe."""
        from IPython.utils.text import LSString, SList

        if cmd.rstrip().endswith("&"):
            raise OSError("Background processes not supported.")
        cmd = self.var_expand(cmd, depth=depth + 1)
        if _INSTALL_COMMAND.match(cmd):
            _not_installed(f"!{cmd}")
            self.user_ns["_exit_code"] = 1
            out = ""
        else:
            done = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
            self.user_ns["_exit_code"] = done.returncode
            if self.system_raise_on_error and done.returncode != 0:
                raise subprocess.CalledProcessError(done.returncode, cmd)
            out = done.stdout.decode("utf-8", "replace")
        return SList(out.splitlines()) if split else LSString(out)


def start(namespace: dict) -> GradingShell:
    """The process's shell (what `get_ipython()` returns), running cells in `namespace`.

    Its IPython folder (profile, extensions) is in the scratch folder it starts in, as is the
    home of the student's process under namespaces; its history is kept in memory only.
    """
    ipython_dir = os.path.join(os.getcwd(), ".ipython")
    os.environ["IPYTHONDIR"] = ipython_dir
    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    return GradingShell.instance(config=config, ipython_dir=ipython_dir, user_ns=namespace)
