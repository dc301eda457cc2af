"""Run a command with a listening socket passed the way systemd passes one (sd_listen_fds).

    activate.py FD NAME COMMAND...

FD becomes descriptor 3, LISTEN_FDS=1, LISTEN_FDNAMES=NAME and LISTEN_PID this process's
pid, which the command keeps (exec).
"""

import os
import sys

LISTEN_FDS_START = 3


def main():
    fd, name, *command = sys.argv[1:]
    fd = int(fd)
    if fd != LISTEN_FDS_START:
        os.dup2(fd, LISTEN_FDS_START)
        os.close(fd)
    os.set_inheritable(LISTEN_FDS_START, True)
    os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES=name)
    os.execv(command[0], command)  # noqa: S606 - the test's own command line


if __name__ == "__main__":
    main()
