"""Engines: custodian Jobs, handlers and validators for external codes (dp, lmp)."""

import shlex
import shutil
import sys
from pathlib import Path


def split_command(command: str) -> list[str]:
    """A launch command (``"srun -n 4 lmp"``) as an argument vector, programs located.

    deepmd-kit installs ``dp`` and ``lmp`` beside the Python interpreter; when its environment
    is not activated (``.venv/bin/litcl run``) they are not on ``PATH``. A word that is not on
    ``PATH`` but is a file in the interpreter's ``bin`` becomes that file's path.
    """
    scripts = Path(sys.executable).parent
    words = shlex.split(command)
    return [
        str(scripts / word)
        if "/" not in word and shutil.which(word) is None and (scripts / word).is_file()
        else word
        for word in words
    ]
