#!/bin/bash
# CPython 3.11 (pyenv, libpython shared, no frame pointers): Python stacks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pylib.sh"
need_root
py_suite "$(pyenv root 2>/dev/null || echo /root/.pyenv)/versions/3.11.7/bin/python3"
