"""Quick fixes: "Change to 'orders'" for every diagnostic that knows the closest name.

The editor hands back the diagnostics we published, range and ``data`` included; the fix is
made from those fields (``conversion.to_lsp`` put the replacement in ``data`` only when the
range is exactly the wrong name), so it works whatever the message says.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types as t


def quick_fixes(uri: str, diagnostics: Sequence[t.Diagnostic]) -> list[t.CodeAction] | None:
    out = []
    for d in diagnostics:
        if d.source != "weir" or not isinstance(d.data, dict) or "replace" not in d.data:
            continue
        new = str(d.data["replace"])
        out.append(t.CodeAction(
            title=f"Change to '{new}'", kind=t.CodeActionKind.QuickFix, diagnostics=[d],
            is_preferred=True, edit=t.WorkspaceEdit(changes={
                uri: [t.TextEdit(range=d.range, new_text=new)]})))
    return out or None
