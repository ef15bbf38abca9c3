#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (lava-nc 0.10.0 imports only on 3.10).
# Order: $PYTHON, python3.10 on PATH, python3 on PATH if it is 3.10 (e.g. via .python-version), pyenv.
is310() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
for c in "${PYTHON:-}" "$(command -v python3.10 || true)" "$(command -v python3 || true)"; do
    if is310 "$c"; then echo "$c"; exit 0; fi
done
root="${PYENV_ROOT:-$HOME/.pyenv}"
if command -v pyenv >/dev/null 2>&1; then
    p="$(pyenv prefix 3.10 2>/dev/null || true)"
    if is310 "$p/bin/python"; then echo "$p/bin/python"; exit 0; fi
fi
for p in $(ls -d "$root"/versions/3.10* 2>/dev/null | sort -V -r); do
    if is310 "$p/bin/python"; then echo "$p/bin/python"; exit 0; fi
done
cat >&2 <<'MSG'
error: Python 3.10 not found (lava-nc 0.10.0 runs only on Python 3.10).
Install it, then run make again:
  pyenv:   pyenv install 3.10      (the repository's .python-version selects it)
  Debian/Ubuntu: sudo apt install python3.10 python3.10-venv   (deadsnakes PPA on newer Ubuntu)
or point PYTHON at one: make PYTHON=/path/to/python3.10 demo
MSG
exit 1
