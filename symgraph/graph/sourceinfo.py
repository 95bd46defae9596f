"""Where in the user's code a node was built: the first stack frame outside
the symgraph package."""
import linecache
import os
import sys
from dataclasses import dataclass

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


@dataclass(frozen=True)
class SourceInfo:
    filename: str
    lineno: int
    function: str

    @property
    def code(self):
        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self):
        code = self.code
        where = f'File "{self.filename}", line {self.lineno}, in {self.function}'
        return f"{where}\n    {code}" if code else where


def user_source(depth=1):
    """SourceInfo of the innermost caller that is not symgraph's own code."""
    frame = sys._getframe(depth)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) and not filename.startswith("<frozen"):
            return SourceInfo(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None


def with_source(message, source):
    """``message`` followed by the user's line, when known."""
    if source is None:
        return message
    return f"{message}\n  The node was built at:\n  {source}"
