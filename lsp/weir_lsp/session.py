"""What outlives a request: the open projects, the client's capabilities, one daemon follower
per project, and the diagnostics published for each file.

Requests come and go in milliseconds; this is the state they answer from. Publishing lives here
because it is the one thing that remembers across requests which files the editor was told
about (so a fixed mistake is cleared, also in a file no longer open).
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path

from weir._version import __version__
from weir_lsp.check_yaml import narrowed
from weir_lsp.checks import column_diagnostics
from weir_lsp.conversion import path_of, to_lsp
from weir_lsp.daemon_link import EventFollower
from weir_lsp.projects import OpenProject, Projects, Records

log = logging.getLogger(__name__)

# What the server asks the client to watch on disk (a git checkout, a file a tool writes).
WATCHED = ["**/weir.yaml", "**/connections.yaml", "**/datasets/**/*.{yaml,yml}",
           "**/folders/**/*.{yaml,yml}", "**/recipes/**/*.{py,sql,R,r}"]


class WeirLanguageServer(LanguageServer):
    """The server and its long-lived state: projects by root, one daemon follower each."""

    def __init__(self) -> None:
        super().__init__("weir", __version__)
        self.projects = Projects()
        self.followers: dict[Path, EventFollower] = {}
        self.event_loop: asyncio.AbstractEventLoop | None = None
        self.watching = False  # the client reports file changes on disk
        self._state_said: dict[Path, str | None] = {}  # the state-store problem told, by root

    # -- documents --------------------------------------------------------------------
    def project_of(self, uri: str) -> tuple[OpenProject, str] | None:
        path = path_of(uri)
        if path is None:
            return None
        try:
            project = self.projects.for_path(path)
            if project is None or project.project is None:
                return None
            project.watched = self.watching
            self._follow(project)
            return project, project.relative(path)
        except (OSError, ValueError):
            return None

    def lines(self, uri: str) -> list[str]:
        return list(self.workspace.get_text_document(uri).lines)

    def changed(self, uri: str, text: str | None) -> None:
        path = path_of(uri)
        if path is None:
            return
        try:
            project = self.projects.set_text(path, text)
        except (OSError, ValueError):
            return
        if project is not None:
            project.watched = self.watching
            self._follow(project)
            self.publish(project)

    def publish(self, project: OpenProject) -> None:
        """Every file of the project gets its diagnostics (an empty list clears old ones)."""
        diags = list(project.diagnostics)
        if project.project is not None:
            records = project.records()
            self._tell_state_problem(project)
            for rel, text in project.overlays.items():
                key = (text, records.key, project.datasets_key)
                cached = project.checks.get(rel)
                if cached is None or cached[0] != key:
                    cached = (key, column_diagnostics(project.project, rel, text,
                                                      _column_names(project, records)))
                    project.checks[rel] = cached
                diags += cached[1]
        by_file: dict[str, list[t.Diagnostic]] = {}
        codec = self.workspace.position_codec
        for d in diags:
            if project.project is not None:  # a wrong column in a check: on its name
                d = narrowed(project.project, d, project.file_text(d.file))
            by_file.setdefault(d.file, []).append(to_lsp(
                d, partial(project.line_text, d.file), codec))
        for rel in set(by_file) | set(project.overlays) | project.published:
            uri = from_fs_path(str(project.root / rel))
            if uri:
                self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(
                    uri=uri, diagnostics=by_file.get(rel, [])))
        project.published = set(by_file)

    def _tell_state_problem(self, project: OpenProject) -> None:
        """Say once (per problem) that the state store cannot be read, and what to do."""
        problem = project.state_problem
        said = problem.message if problem else None
        if said is not None and said != self._state_said.get(project.root):
            hint = f" — {problem.hint}" if problem and problem.hint else ""
            self.window_show_message(t.ShowMessageParams(
                type=t.MessageType.Warning,
                message=f"weir: {said}{hint}. Statuses are unknown until then."))
        self._state_said[project.root] = said

    def disk_changed(self, uris: list[str]) -> list[OpenProject]:
        """Files changed on disk: each open project re-reads its own; the projects touched."""
        touched: dict[Path, OpenProject] = {}
        for uri in uris:
            path = path_of(uri)
            if path is None:
                continue
            for root, project in self.projects.all().items():
                if path.is_relative_to(root):
                    project.disk_changed([path.relative_to(root).as_posix()])
                    touched[root] = project
        return list(touched.values())

    def files_changed_on_disk(self, uris: list[str]) -> None:
        """What the client's file watcher reports: re-read, re-check and re-publish."""
        for project in self.disk_changed(uris):
            project.reload()
            self.publish(project)

    async def watch_files(self) -> None:
        """Ask the client to tell us of changes to project files on disk (a git checkout, a
        file written by a tool), so nothing needs re-reading on a keystroke."""
        caps = self.client_capabilities.workspace
        watch = caps.did_change_watched_files if caps is not None else None
        if watch is None or not watch.dynamic_registration:
            return  # the projects re-read the disk every DISK_TTL instead
        try:
            await self.client_register_capability_async(t.RegistrationParams(registrations=[
                t.Registration(id="weir-files", method=t.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                               register_options=t.DidChangeWatchedFilesRegistrationOptions(
                                   watchers=[t.FileSystemWatcher(glob_pattern=p)
                                             for p in WATCHED]))]))
        except Exception as exc:  # noqa: BLE001 - the client said no: fall back to re-reading
            log.info("file watching not available: %s", exc)
            return
        self.watching = True
        for project in self.projects.all().values():
            project.watched = True

    def can_move_files(self) -> bool:
        """Whether a workspace edit may rename files (a dataset's YAML, a SQL recipe)."""
        caps = self.client_capabilities.workspace
        edits = caps.workspace_edit if caps is not None else None
        return bool(edits and edits.document_changes and edits.resource_operations
                    and t.ResourceOperationKind.Rename in edits.resource_operations)

    # -- the daemon -------------------------------------------------------------------
    def _follow(self, project: OpenProject) -> None:
        if project.root in self.followers:
            return
        follower = EventFollower(
            project.root, lambda: self._data_changed(project),
            on_statuses=lambda report: self._statuses_changed(
                project, lambda: project.take_daemon_statuses(report)),
            on_status=lambda change: self._statuses_changed(
                project, lambda: project.apply_status_change(change)))
        self.followers[project.root] = follower
        follower.start()

    def _data_changed(self, project: OpenProject) -> None:
        """From a follower thread: a build ended — statuses and schemas are news."""
        project.invalidate_facts()
        loop = self.event_loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.refresh_lenses)

    def _statuses_changed(self, project: OpenProject, apply: Any) -> None:
        """From a follower thread: the daemon's statuses came, or changed — the CodeLens
        titles are asked for again."""
        apply()
        loop = self.event_loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.refresh_lenses)

    def refresh_lenses(self) -> None:
        caps = self.client_capabilities.workspace
        if caps is not None and caps.code_lens is not None and caps.code_lens.refresh_support:
            self.workspace_code_lens_refresh(None)

    def stop_following(self) -> None:
        for follower in self.followers.values():
            follower.stop()


def _column_names(project: OpenProject, records: Records) -> Any:
    def names(dataset: str) -> list[str] | None:
        cols = project.schema(dataset, records)
        return [c.name for c in cols] if cols else None
    return names
