#!/bin/bash
# Debian's python3.11: static, non-PIE, stripped (only .dynsym): Python stacks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pylib.sh"
need_root
py_suite /usr/bin/python3.11
