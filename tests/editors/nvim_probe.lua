-- Drives `weir lsp` from Neovim's built-in LSP client (0.7+), headless: open a recipe, ask
-- for completion and hover, collect diagnostics, and write what came back as JSON.
local function env(k)
  local v = os.getenv(k)
  assert(v ~= nil, k .. " is not set")
  return v
end
local out = { completion = {}, hover = nil, diagnostics = {}, errors = {} }

local function probe()

  local id = vim.lsp.start_client({
    name = "weir",
    cmd = { env("WEIR_PYTHON"), "-m", "weir", "lsp" },
    root_dir = env("WEIR_ROOT"),
    on_error = function(code, err) table.insert(out.errors, tostring(code) .. ": " .. tostring(err)) end,
  })
  vim.cmd("edit " .. env("WEIR_FILE"))
  local buf = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(buf, id)
  local ready = vim.wait(20000, function()
    local c = vim.lsp.get_client_by_id(id)
    return c ~= nil and c.initialized == true
  end, 20)
  if not ready then table.insert(out.errors, "the server did not initialize") end

  local function at(line, character)
    return { textDocument = { uri = vim.uri_from_bufnr(buf) },
             position = { line = line, character = character } }
  end

  local results = vim.lsp.buf_request_sync(buf, "textDocument/completion",
    at(tonumber(env("WEIR_COMPLETE_LINE")), tonumber(env("WEIR_COMPLETE_CHAR"))), 10000) or {}
  for _, r in pairs(results) do
    if r.err then table.insert(out.errors, vim.inspect(r.err)) end
    local items = r.result and (r.result.items or r.result) or {}
    for _, item in ipairs(items) do table.insert(out.completion, item.label) end
  end

  results = vim.lsp.buf_request_sync(buf, "textDocument/hover",
    at(tonumber(env("WEIR_HOVER_LINE")), tonumber(env("WEIR_HOVER_CHAR"))), 10000) or {}
  for _, r in pairs(results) do
    if r.result and r.result.contents then out.hover = r.result.contents.value end
  end

  vim.wait(10000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out.diagnostics, { line = d.lnum, col = d.col, message = d.message })
  end

  vim.lsp.stop_client(id)
  vim.wait(2000, function() return vim.lsp.get_client_by_id(id) == nil end, 20)
end

-- Whatever happens, write what we have and quit: a hung editor would hang the test.
local ok, err = pcall(probe)
if not ok then table.insert(out.errors, tostring(err)) end
local f = io.open(os.getenv("WEIR_OUT") or "nvim-probe.json", "w")
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd(ok and "qa!" or "cq!")
