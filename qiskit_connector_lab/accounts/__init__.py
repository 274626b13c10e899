"""Signing in with an API key: check it with IBM, keep it as a qiskit-ibm-runtime account, sign out.

* :mod:`.store`: the stored credential (a named account in qiskit-ibm-runtime's own file), read, written and
  removed under a lock, atomically, mode 0600 in a 0700 folder, other accounts untouched.
* :mod:`.sign_in`: validate a key and list its instances (IAM, Global Search, Global Catalog: 2 + N requests, no
  service and no ``/backends``), with a deadline and one-line errors; which credential source wins.

Nothing here imports tornado, IPython or ipywidgets; this ``__init__`` imports nothing, so :mod:`..config` can
import :mod:`.store` without a cycle.
"""
