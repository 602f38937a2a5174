-- helmc's language server for run entries conf files (Neovim 0.11 or later).
-- Copy to ~/.config/nvim/plugin/helmc.lua; `helmc` must be on PATH (or give its full path).
vim.lsp.config("helmc", {
  cmd = { "helmc", "lsp" },
  filetypes = { "conf", "hocon" },
  root_markers = { "pyproject.toml", ".git" },
})
vim.lsp.enable("helmc")
