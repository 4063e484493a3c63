"""Reading what a root holds into this machine's catalog: all of it (`reindex`, a new host) or
what changed since the last look (the journal of a shared root).

Everything read is untrusted input: a record, alias, link or claim that this store would never
write is skipped, reported, and changes nothing.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .journal import Entry, Journal
from .layout import alias_path, link_path, record_path, version_path
from .manifests import Tree
from .names import is_artifact_id
from .records import Artifact, dumps
from .manifests import record_pieces
from .validation import InvalidRecord, check_alias_doc, check_header, check_record, read_header, read_record

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger("jupyter_artifacts")
JOURNAL_RETENTION = 24 * 3600.0  # gc keeps this much of the journal; a host further behind reads everything
SNAPSHOT = "snapshots/latest.json.gz"
SNAPSHOT_FORMAT = 1


class RootReader:
    """Reads and checks the documents of a root; `skipped` collects what was refused."""

    def __init__(self, store: "Store") -> None:
        self.root, self.catalog, self.scratch = store.root, store.catalog, store.scratch
        self.skipped: list[str] = []

    def where(self, doc: str) -> str:
        return f"{self.root.url.rstrip('/')}/{doc}"

    def header(self, doc: str) -> Artifact | None:
        """What a record says of its artifact, its manifest aside (read from its first line where it
        is laid out an entry a line), checked as untrusted input; None if it is gone or refused."""
        stream = self.root.open_doc(doc)
        if stream is None:
            return None
        try:
            with stream:
                artifact = read_header(stream, self.where(doc))
            if doc != record_path(artifact.id):
                raise InvalidRecord(self.where(doc), "id", "does not match the file's name")
        except InvalidRecord as exc:
            self.skipped.append(exc.message)
            return None
        return artifact

    def fetch_record(self, artifact_id: str) -> tuple[Artifact, Tree] | None:
        """The record of an artifact and its tree, if the root has one and it is sound (checked a
        batch of entries at a time); None otherwise."""
        doc = record_path(artifact_id)
        raw = self.root.read_doc(doc)
        if raw is None:
            return None
        try:
            artifact, tree = read_record(io.BytesIO(raw), self.where(doc), self.scratch)
        except InvalidRecord as exc:
            self.skipped.append(exc.message)
            return None
        if artifact.id != artifact_id:
            tree.close()
            self.skipped.append(InvalidRecord(self.where(doc), "id", "does not match the file's name").message)
            return None
        return artifact, tree

    def pointer(self, doc: str) -> dict | None:
        """A small JSON document (an alias, a link, a claim); None if it is gone or not an object."""
        raw = self.root.read_doc(doc)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
        if not isinstance(data, dict):
            self.skipped.append(f"{doc}: not a JSON object; skipped.")
            return None
        return data

    def records(self, wanted: Callable[[str], bool] = lambda _id: True) -> tuple[set[str], list[Artifact]]:
        """(ids of every record in the root, what the records `wanted` asks for say of their
        artifacts, checked); their manifests are read by `fetch_record`, one record at a time."""
        ids, found = set(), []
        for doc in self.root.list_docs("artifacts"):
            artifact_id = doc[len("artifacts/"):-len(".json")]
            if not is_artifact_id(artifact_id):
                self.skipped.append(f"{doc}: not named by an artifact id; skipped.")
                continue
            ids.add(artifact_id)
            if wanted(artifact_id) and (artifact := self.header(doc)) is not None:
                found.append(artifact)
        return ids, found

    def index(self, db, catalog, headers: list[Artifact]) -> list[Artifact]:
        """Read, check and index the records of these artifacts (in a transaction); the artifacts
        indexed (a record refused or gone meanwhile is not)."""
        indexed = []
        for header in headers:
            loaded = self.fetch_record(header.id)
            if loaded is None:
                continue
            artifact, tree = loaded
            try:
                catalog.index_published(db, artifact, tree)
            finally:
                tree.close()
            indexed.append(artifact)
        return indexed

    def counters(self) -> dict[tuple[str, str], int]:
        """The highest version claimed for each (kind, name); `self.claimed` every claim seen."""
        counters: dict[tuple[str, str], int] = {}
        self.claimed: set[tuple[str, str, int]] = set()
        for doc in self.root.list_docs("versions"):
            parts = doc.split("/")
            try:
                if len(parts) != 4 or not parts[3][:-5].isdigit():
                    raise InvalidRecord(doc, "path", "is not versions/KIND/NAME/NUMBER.json")
                check_alias_doc(parts[1], parts[2], "claim", "0" * 32, doc)
            except InvalidRecord as exc:
                self.skipped.append(exc.message)
                continue
            key = (parts[1], parts[2])
            counters[key] = max(counters.get(key, 0), int(parts[3][:-5]))
            self.claimed.add((parts[1], parts[2], int(parts[3][:-5])))
        return counters

    def claim_unclaimed(self, records: list[Artifact]) -> None:
        """Records whose version has no claim (a root written before claims, or by hand) are
        reported and their claims made now, so that the number is never given again."""
        for artifact in records:
            key = (artifact.kind, artifact.name, artifact.version)
            if key in self.claimed:
                continue
            if self.root.claim(version_path(*key), dumps({"artifact_id": artifact.id})):
                self.skipped.append(f"{record_path(artifact.id)}: {artifact.kind} {artifact.reference} had no version "
                                    "claim; claimed now.")
            self.claimed.add(key)

    def claim_holder(self, kind: str, name: str, version: int) -> str | None:
        claim = self.pointer(version_path(kind, name, version))
        holder = (claim or {}).get("artifact_id")
        return holder if is_artifact_id(holder) else None

    def one_per_version(self, records: list[Artifact], taken: dict[tuple[str, str, int], str]) -> list[Artifact]:
        """Where two records (or a record and an artifact already indexed here) hold one version,
        keep the one its claim names (else the older) and report the others."""
        by_version: dict[tuple[str, str, int], list[Artifact]] = {}
        for artifact in records:
            by_version.setdefault((artifact.kind, artifact.name, artifact.version), []).append(artifact)
        kept = []
        for key, group in by_version.items():
            if len(group) == 1 and taken.get(key, group[0].id) == group[0].id:
                kept.append(group[0])
                continue
            holder = taken.get(key) or self.claim_holder(*key)
            group.sort(key=lambda a: (a.id != holder, a.created_at, a.id))
            keep = group[0] if key not in taken or group[0].id == holder else None
            for other in group:
                if other is not keep:
                    self.skipped.append(f"{record_path(other.id)}: {other.kind} {other.reference} is also held by "
                                        "another artifact; skipped (delete one of the two records).")
            if keep is not None:
                kept.append(keep)
        return kept

    def links(self, known: set[str]) -> list[tuple[str, str]]:
        found = []
        for doc in self.root.list_docs("links"):
            link = self.pointer(doc)
            if link is not None and link.get("src") in known and is_artifact_id(link.get("dst")) \
                    and doc == link_path(link["src"], link["dst"]):
                found.append((link["src"], link["dst"]))
            elif link is not None:
                self.skipped.append(f"{doc}: not a link between known artifacts; skipped.")
        return found

    def alias(self, doc: str, known: Callable[[str], tuple[str, str] | None]) -> tuple[str, str, str, str | None] | None:
        """(kind, name, alias, artifact id or None if removed) of one alias document; None if refused.
        `known` gives an artifact's (kind, name) from its id."""
        parts = doc.split("/")
        try:
            if len(parts) != 4 or not parts[3].endswith(".json"):
                raise InvalidRecord(doc, "path", "is not aliases/KIND/NAME/ALIAS.json")
            kind, name, alias = parts[1], parts[2], parts[3][:-5]
            pointer = self.pointer(doc)
            if pointer is None:
                check_alias_doc(kind, name, alias, "0" * 32, doc)
                return kind, name, alias, None
            check_alias_doc(kind, name, alias, pointer.get("artifact_id"), doc)
        except InvalidRecord as exc:
            self.skipped.append(exc.message)
            return None
        if known(pointer["artifact_id"]) != (kind, name):
            self.skipped.append(f"{doc}: points at no {kind} named {name!r}; skipped.")
            return None
        return kind, name, alias, pointer["artifact_id"]

    def aliases(self, known: dict[str, tuple[str, str]]) -> list[tuple[str, str, str, str]]:
        found = []
        for doc in self.root.list_docs("aliases"):
            alias = self.alias(doc, known.get)
            if alias is not None and alias[3] is not None:
                found.append(alias)
        return found

    def report(self, what: str) -> list[str]:
        for message in self.skipped:
            log.warning("%s: %s", what, message)
        return self.skipped


class Syncer:
    """Keeps this machine's catalog up to date with a shared root, through its journal."""

    def __init__(self, store: "Store") -> None:
        self.store = store
        self.catalog = store.catalog
        self.journal = Journal(store.root)

    def sync(self, force: bool = False) -> int:
        """Read what other hosts changed (at most every `sync_interval` seconds unless forced);
        returns how many changes were applied."""
        if self.catalog.read_only:
            return 0
        settings = self.store.settings
        started = time.time()
        if not force and started - float(self.catalog.sync_value("checked_at") or 0) < settings.sync_interval:
            return 0
        last = self.catalog.sync_value("last_millis")
        if last is None or int(last) < (started - JOURNAL_RETENTION) * 1000:
            last = self.from_snapshot()
            if last is None:
                return self.full(started)
        skew = int(settings.clock_skew * 1000)
        entries = self.journal.since(int(last) - skew, ahead_millis=skew)
        seen = self.catalog.seen_entries(e.key for e in entries)
        fresh = [e for e in entries if e.key not in seen]
        reader = RootReader(self.store)
        for entry in fresh:
            self.apply(entry, reader)
        with self.catalog.transaction() as db:
            self.catalog.mark_seen(db, ((e.key, e.millis) for e in fresh), int(started * 1000) - 2 * skew)
            self.catalog.set_sync_values(db, last_millis=int(started * 1000), checked_at=started)
        reader.report("sync")
        return len(fresh)

    def write_snapshot(self) -> None:
        """Every record, alias, link and version counter in one compressed document, so that a
        new host reads one object and the journal since, not every record (gc writes it). Records
        go in as the root has them (a manifest a line per entry), one at a time."""
        catalog = self.catalog
        head = {"format": SNAPSHOT_FORMAT, "taken_at": time.time(),
                "aliases": [list(a) for a in catalog.all_aliases()],
                "links": [list(link) for link in catalog.all_links()],
                "counters": [[kind, name, last] for (kind, name), last in catalog.counters().items()]}
        with tempfile.TemporaryFile(dir=self.store.scratch) as spool:
            with gzip.GzipFile(fileobj=spool, mode="wb", compresslevel=6) as packed:
                packed.write(json.dumps(head, separators=(",", ":")).encode()[:-1] + b',"records":[')
                for n, artifact_id in enumerate(sorted(catalog.ready_ids())):
                    artifact = catalog.get(artifact_id)
                    packed.write(b",\n" if n else b"\n")
                    for piece in record_pieces(artifact.record_header(), catalog.body(artifact_id)):
                        packed.write(piece)
                packed.write(b"]}")
            spool.seek(0)
            self.store.root.write_doc_stream(SNAPSHOT, iter(lambda: spool.read(8 << 20), b""))

    def from_snapshot(self) -> int | None:
        """Index the root's snapshot, if it is recent enough that the journal covers what came
        after; returns from when to read the journal (None: no usable snapshot). Each record in it
        is checked like any record read from the root."""
        raw = self.store.root.read_doc(SNAPSHOT)
        reader = RootReader(self.store)
        where = reader.where(SNAPSHOT)
        try:
            data = json.loads(gzip.decompress(raw)) if raw else None
        except (OSError, EOFError, ValueError, UnicodeDecodeError, RecursionError):
            data = None
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT \
                or not isinstance(data.get("taken_at"), (int, float)) \
                or data["taken_at"] < time.time() - JOURNAL_RETENTION + 3600:
            return None
        records: dict[str, dict] = {}
        headers = []
        for i, record in enumerate(data.get("records") or []):
            try:
                headers.append(check_header(record, f"{where}#{i}"))
                records[headers[-1].id] = record
            except InvalidRecord as exc:
                reader.skipped.append(exc.message)
        headers = reader.one_per_version([a for a in headers if self.catalog.get(a.id) is None],
                                         self.catalog.version_holders())
        counters: dict[tuple[str, str], int] = {}
        for item in data.get("counters") or []:
            if isinstance(item, list) and len(item) == 3 and isinstance(item[2], int):
                try:
                    check_alias_doc(item[0], item[1], "claim", "0" * 32, where)
                    counters[(item[0], item[1])] = item[2]
                except InvalidRecord as exc:
                    reader.skipped.append(exc.message)
        with self.catalog.transaction() as db:
            for i, header in enumerate(headers):
                try:
                    artifact, tree = check_record(records.pop(header.id), f"{where}#{i}", self.store.scratch)
                except InvalidRecord as exc:
                    reader.skipped.append(exc.message)
                    continue
                try:
                    self.catalog.index_published(db, artifact, tree)
                finally:
                    tree.close()
        names = self.catalog.ready_names()
        aliases = []
        for item in data.get("aliases") or []:
            if isinstance(item, list) and len(item) == 4 and names.get(item[3]) == tuple(item[:2]):
                try:
                    check_alias_doc(*item, where)
                    aliases.append(tuple(item))
                except InvalidRecord as exc:
                    reader.skipped.append(exc.message)
        links = [tuple(item) for item in data.get("links") or []
                 if isinstance(item, list) and len(item) == 2 and item[0] in names and is_artifact_id(item[1])]
        with self.catalog.transaction() as db:
            self.catalog.replace_pointers(db, links, aliases, counters)
        reader.report("sync")
        return int((data["taken_at"] - self.store.settings.clock_skew) * 1000)

    def full(self, started: float | None = None) -> int:
        """Read the whole root: records this machine lacks, records gone since, every alias, link
        and claim. A new host starts so; so does one that was away longer than the journal keeps."""
        started = time.time() if started is None else started
        reader = RootReader(self.store)
        known = self.catalog.ready_ids()
        ids, new = reader.records(lambda artifact_id: artifact_id not in known)
        new = reader.one_per_version(new, self.catalog.version_holders())
        counters = reader.counters()
        with self.catalog.transaction() as db:
            for artifact_id in known - ids:
                self.catalog.drop(db, artifact_id)
            new = reader.index(db, self.catalog, new)
        reader.claim_unclaimed(new)
        names = self.catalog.ready_names()
        links, aliases = reader.links(set(names)), reader.aliases(names)
        with self.catalog.transaction() as db:
            self.catalog.replace_pointers(db, links, aliases, counters)
            self.catalog.set_sync_values(db, last_millis=int(started * 1000), checked_at=started)
        reader.report("sync")
        return len(new) + len(known - ids)

    def apply(self, entry: Entry, reader: RootReader) -> None:
        """Read again what one journal entry names, and index it as the root now has it."""
        catalog = self.catalog
        if entry.op == "record":
            self.learn(entry.arg, reader)
        elif entry.op == "delete":
            if is_artifact_id(entry.arg) and catalog.get(entry.arg) is not None \
                    and not self.store.root.has_doc(record_path(entry.arg)):
                with catalog.transaction() as db:
                    catalog.drop(db, entry.arg)
        elif entry.op == "alias":
            parts = entry.arg.split("/")
            if len(parts) == 3:
                def known(artifact_id: str) -> tuple[str, str] | None:
                    found = self.learn(artifact_id, reader)
                    return (found.kind, found.name) if found else None

                alias = reader.alias(alias_path(*parts), known)
                if alias is not None:
                    with catalog.transaction() as db:
                        catalog.set_alias(db, *alias)
        elif entry.op == "link":
            src, _, dst = entry.arg.partition("/")
            if is_artifact_id(src) and is_artifact_id(dst) and catalog.get(src) is not None:
                present = self.store.root.read_doc(link_path(src, dst)) is not None
                with catalog.transaction() as db:
                    catalog.set_ref(db, src, dst, present)
        elif entry.op == "claim":
            kind, name, version = (entry.arg.split("/") + ["", "", ""])[:3]
            try:
                check_alias_doc(kind, name, "claim", "0" * 32, entry.key)
            except InvalidRecord:
                return
            if version.isdigit():
                with catalog.transaction() as db:
                    catalog.count_version(db, kind, name, int(version))

    def learn(self, artifact_id: str, reader: RootReader) -> Artifact | None:
        """Index a record another host published, if this machine lacks it."""
        if not is_artifact_id(artifact_id):
            return None
        known = self.catalog.get(artifact_id)
        if known is not None and known.state == "ready":
            return known
        loaded = reader.fetch_record(artifact_id)
        if loaded is None:
            return None
        artifact, tree = loaded
        try:
            clash = [a for a in self.catalog.find_version(artifact.kind, artifact.name, artifact.version)
                     if a.id != artifact.id]
            if clash:
                reader.skipped.append(f"{record_path(artifact.id)}: {artifact.kind} {artifact.reference} is also "
                                      "held by another artifact; skipped.")
                return None
            with self.catalog.transaction() as db:
                self.catalog.index_published(db, artifact, tree)
        finally:
            tree.close()
        return artifact
