#!/bin/bash
# ebprof mem on CPython 3.11 and 3.12 (launched and attached): the second
# part of t_mem_python.sh (helpers: pymem.sh; 3.13 and Debian's beside
# valgrind: t_mem_python3.sh; each file within run.sh's 120 s).
. "$(dirname "$0")/lib.sh"
need_root
. "$(dirname "$0")/pymem.sh"
builds 3.11 3.12

exit 0
