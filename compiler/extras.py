"""How to install one of helmc's extras, said the same way by every message that needs it.

helmc is installed from PyPI (`pip install 'helmc[ray]'`) or from a checkout, where that
command would fetch another helmc instead of adding the extra to the one being used
(`pip install -e '.[ray]'` in the checkout does). The hint names both, so it is right for
either without guessing how this helmc was installed.
"""

from __future__ import annotations


def install_hint(extra: str) -> str:
    return f"pip install 'helmc[{extra}]' (in a checkout of helmc: pip install -e '.[{extra}]')"
