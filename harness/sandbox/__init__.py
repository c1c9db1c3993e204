"""A Gemini-like local Python sandbox: warm, isolated, and honest about how isolated.

``execute.run(code, files, timeout, seed)`` executes Python the way Gemini's code-execution
tool does (30 s wall limit, the documented library set, no network, input files in the
working directory, matplotlib figures returned as PNG, an outcome code) and returns an
``ExecResult``. Runs fork
from a warm zygote that has imported the preload set, so a run costs milliseconds, not the
seconds of importing numpy/sympy/matplotlib/pandas.

Isolation degrades with what the machine allows, and every result names the level reached
(``ExecResult.isolation``) and the layers applied (``ExecResult.layers``):

=========== ======================================== ======================================
level       needs                                    contains (attack-table rows)
=========== ======================================== ======================================
none        POSIX fork                               busy-loop, sleep-loop, stdout-flood
rlimits     POSIX                                    + memory-20g
restricted  Linux seccomp + Landlock (unprivileged)  + tcp, udp, write-outside
full        root, cgroups, namespaces                + fork-bomb, setsid-escape, env-key
strict      as full (opt-in: ``level="strict"``)     all; no process creation at all
=========== ======================================== ======================================

``harness.sandbox.levels`` has the layer details and ``LEVEL_CONTAINS`` (the same table as a
dict); ``execute.isolation_report()`` says what this machine reaches. Layout: ``execute`` (the
shared pool and ``run``), ``api`` (ExecResult, errors, limits), ``pool`` (supervisor
side), ``zygote`` (worker main), ``supervise`` (one run: deadline, caps, kill), ``child``
(in-child setup and execution), ``isolate``/``cgroups``/``seccomp``/``landlock`` (the layers),
``figures`` (capture and PNG validation), ``outcome`` (Gemini outcome mapping), ``cli``
(``harness exec``).

May import: the standard library, its own modules and ``harness.paths`` only (it is a leaf:
the simulator and ``cassettes.reference`` use it, and it knows nothing of them).
"""
