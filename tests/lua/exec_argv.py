"""Run the argv stored NUL-separated in a file, with no shell (the REAPER ExecProcess stand-in's second half).
The file is removed first; the process replaces this one, so its exit status is the command's."""

import os
import sys

with open(sys.argv[1], "rb") as f:
    argv = [os.fsdecode(w) for w in f.read().split(b"\0")]
os.remove(sys.argv[1])
os.execvp(argv[0], argv)
