"""weir_lsp: the language server — the Flow where the code is (`weir lsp`, stdio)."""
