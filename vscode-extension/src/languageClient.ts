/**
 * Starts `weir lsp` over stdio with vscode-languageclient. The server brings completion, hover,
 * diagnostics, definition, references, rename and the CodeLenses; the client adds one thing:
 * the CodeLenses' `weir.build` and `weir.scenario.run` commands are run by the extension
 * (progress notification, log in the output channel, cancel) instead of inside the server, for
 * this window's project.
 */
import {
  LanguageClient, type LanguageClientOptions, type ServerOptions,
} from "vscode-languageclient/node";

import type { BuildRequest } from "./api";
import { serverEnv } from "./environment";
import { buildFromCommand, scenarioFromCommand } from "./serverCommands";

export function createClient(options: {
  python: string;
  root: string;
  debug: boolean;
  /** weir.yaml's environment the server reads the project in (WEIR_ENV), if any. */
  environment: string | undefined;
  runBuild: (request: BuildRequest, label?: string) => Promise<unknown>;
  runScenario: (name: string, label?: string) => Promise<unknown>;
}): LanguageClient {
  const server: ServerOptions = {
    command: options.python,
    args: ["-m", "weir", ...(options.debug ? ["--debug"] : []), "lsp"],
    options: { cwd: options.root, env: serverEnv(process.env, options.environment) },
  };
  const client: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "file", language: "sql" },
      { scheme: "file", language: "yaml" },
      { scheme: "file", language: "r" },
      // By name too: a SQL or R recipe is served even where no extension gives its language
      // (VS Code has none for R of its own).
      { scheme: "file", pattern: "**/*.{sql,R,r}" },
    ],
    middleware: {
      executeCommand: async (command, args, next) => {
        if (command === "weir.build") {
          const build = buildFromCommand(options.root, args);
          if (build) return options.runBuild(build.request, build.label);
        } else if (command === "weir.scenario.run") {
          const run = scenarioFromCommand(options.root, args);
          if (run) return options.runScenario(run.name, run.label);
        }
        return next(command, args);
      },
    },
  };
  return new LanguageClient("weir", "weir language server", server, client);
}
