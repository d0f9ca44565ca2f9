"""The stages of one file. Each takes the task and returns it; a finished task skips the rest.

Only the runner's consumer touches the index, so SQLite has one writer.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass

from sidecar.classify.base import Classification, heard_by_an_older_engine
from sidecar.config import Config
from sidecar.errors import AudioError, ClassifierError, ContainerError, FileError, IndexUnavailable, SidecarError
from sidecar import formats
from sidecar.formats import NotAudioError, recognise
from sidecar.metadata import merge as ownership
from sidecar.metadata.record import TECHNICAL_FIELDS, Provenance, Record
from sidecar.pipeline.task import Outcome, Task
from sidecar.pipeline.write import write_embedded


@dataclass
class Context:
    """What every stage may use; built once per run."""

    config: Config
    engine: object
    vocabulary: object
    journal: object | None = None
    dry_run: bool = False
    store: object | None = None     # read only here (moved files); the runner's consumer writes
    repair: bool = False            # write into files whose header is damaged (it sets the framing right)
    embedder: object | None = None  # the sounds-like network; None when it is not installed
    categories: object | None = None  # the CatID model `sidecar learn` saved, if any
    #: indexed files described again from what was heard before (never heard again): those whose
    #: category that model changes, those the vocabulary's older rules described, and those
    #: whose quality flags sit among their labels (indexed before the flags had their own field)
    recategorise: frozenset = frozenset()


def probe(task: Task, ctx: Context) -> Task:
    task.stage = "probe"
    try:
        st = os.stat(task.path)
        task.size, task.mtime_ns = st.st_size, st.st_mtime_ns
        if not stat.S_ISREG(st.st_mode):
            # a FIFO would block the worker that opened it; a device is no sound file
            return task.done(Outcome.SKIPPED, "not a regular file: never opened")
        if not os.access(task.path, os.R_OK):
            return task.done(Outcome.FAILED, "no read permission")
        found = recognise(task.path)
    except NotAudioError as exc:
        return task.done(Outcome.FAILED, str(exc))
    except OSError as exc:
        return task.done(Outcome.FAILED, exc.strerror or str(exc))
    if found is None:
        return task.done(Outcome.SKIPPED, "not an audio format SFX Sidecar handles")
    task.format = found.format
    cfg = ctx.config
    if _writes_into_files(cfg, task.path) and not ctx.dry_run:
        if not st.st_mode & 0o222:
            # a rename would replace it all the same: a read-only master is left alone
            return task.done(Outcome.FAILED, f"file is read-only (mode {st.st_mode & 0o777:04o}); nothing "
                                             f"written (give its root read_only = true for sidecars only)")
        if st.st_nlink > 1:
            task.notes.append(f"{st.st_nlink} hard links: embedded metadata not written (a rewrite would "
                              f"split them); sidecar and index only")
    try:
        task.existing = read_existing(task.path, task.format, cfg)
        task.damage = formats.get(task.format).damage(task.path)
    except ContainerError as exc:
        return task.done(Outcome.FAILED, str(exc))
    return task


def _writes_into_files(cfg: Config, path: str) -> bool:
    return (cfg.write_tags or cfg.write_riff) and not cfg.is_read_only(path)


def read_existing(path: str, fmt: str, config: Config) -> Record:
    """Everything the file already carries: its chunks, then its tags (the format reads them)."""
    return formats.get(fmt).read(path)


def read_sidecar_edits(path: str, config: Config) -> tuple[Record, set[str], dict]:
    """The sidecar beside the file: its record, the fields a person edited there (they win),
    and the values the service wrote (its machine marks)."""
    from sidecar.metadata import sidecar_xml
    doc = sidecar_xml.sidecar_path(path, config.mirror_for(path))
    if not doc.exists():
        return Record(), set(), {}
    record, _identity, human = sidecar_xml.read(doc)
    machine = {name: getattr(record, name) for name in record.provenance.machine_fields
               if name not in human}
    return record, set(human), machine


def fingerprint(task: Task, ctx: Context) -> Task:
    task.stage = "fingerprint"
    fmt = formats.get(task.format)
    try:
        if fmt.pcm:
            # the payload bytes are the fingerprint: a file whose audio is known is never decoded
            task.fingerprint = fmt.fingerprint(task.path)
        else:
            task.audio = fmt.decode(task.path)
            task.fingerprint = fmt.fingerprint(task.path, task.audio)
    except AudioError as exc:
        return task.done(Outcome.FAILED, str(exc))
    rec = task.existing
    try:
        edits, edited, sidecar_machine = read_sidecar_edits(task.path, ctx.config)
    except ContainerError as exc:
        return task.done(Outcome.FAILED, str(exc))
    if task.indexed is None and ctx.store is not None and _find_move(task, ctx):
        # the sidecar left at the old place carries a person's edits along
        old, old_edited, _ = read_sidecar_edits(task.moved_from, ctx.config)
        for name in old_edited - edited:
            setattr(edits, name, getattr(old, name))
        edited |= old_edited
    indexed = task.indexed
    if indexed is not None:
        written = indexed.written.get("fields", {})
    elif sidecar_machine:
        written = sidecar_machine       # a new index: the sidecar's machine marks say what was ours
    else:
        # nor a sidecar: the file's own provenance names the fields the service wrote
        written = {name: getattr(rec, name) for name in rec.provenance.machine_fields}
    for name in edited:
        setattr(task.existing, name, getattr(edits, name))
    task.human = ownership.human_fields(task.existing, written) | edited
    task.person = _person_keywords(task, edits, written)
    if task.person:
        task.human.add("Keywords")
    else:
        task.human.discard("Keywords")     # every word the service's own: a classification refreshes them
    task.ours = dict(written)
    if indexed is not None and indexed.record.Loudness is not None:
        task.ours["Loudness"] = f"{indexed.record.Loudness:.2f}"
    if (indexed is not None and indexed.fingerprint == task.fingerprint
            and not heard_by_an_older_engine(indexed.record.provenance, ctx.engine)):
        if task.path in ctx.recategorise and not ctx.dry_run:
            # a learned model, newer rules or the labels' current layout change its words:
            # described again from what the index heard
            task.classification, task.audio = heard_before(indexed.record)
            return task
        # the audio did not change: never classify again, only refresh what is known of it
        keep = indexed.record
        rec.provenance = keep.provenance
        rec.provenance.person_keywords = list(task.person)
        for name in TECHNICAL_FIELDS:
            if getattr(keep, name) is not None:
                setattr(rec, name, getattr(keep, name))
        task.record = rec
        task.audio = None
        task.unchanged_audio = True
        if ctx.dry_run:
            return task.done(Outcome.UNCHANGED, "audio unchanged")
        return task
    if task.audio is None:
        try:
            task.audio = fmt.decode(task.path)
        except AudioError as exc:
            return task.done(Outcome.FAILED, str(exc))
    rec.Duration = round(task.audio.duration, 6)
    rec.SampleRate = task.audio.samplerate
    rec.BitDepth = task.audio.bit_depth or rec.BitDepth   # the container's fmt says, when the decoder cannot
    rec.Channels = task.audio.channels
    return task


def _person_keywords(task: Task, sidecar: Record, written: dict) -> list[str]:
    """The words of the file's keywords a person wrote: those known before (by the index, the
    sidecar's marks or the file's own provenance) and, in a list a person changed since the
    service wrote it, every word the service did not write."""
    indexed = task.indexed
    if indexed is not None:
        earlier = list(indexed.record.provenance.person_keywords)
        if not earlier and "Keywords" in indexed.human_fields:
            # an index from before words had an owner: the person's words are not told apart
            earlier = list(indexed.record.Keywords)
    else:
        earlier = list(task.existing.provenance.person_keywords)
    earlier += [w for w in sidecar.provenance.person_keywords if w.lower() not in {e.lower() for e in earlier}]
    return ownership.person_keywords(task.existing, written.get("Keywords"), earlier, "Keywords" in task.human)


@dataclass
class KnownAudio:
    """The facts of audio the index measured before: describe_and_merge's stand-in for samples."""
    duration: float
    samplerate: int
    channels: int
    bit_depth: int | None
    samples: None = None


def heard_before(rec: Record) -> tuple[Classification, KnownAudio]:
    """What the engine said about a file, and its measured facts, as its index record keeps them."""
    prov = rec.provenance
    c = Classification(engine=prov.engine, model=prov.model, version=prov.version, labels=list(prov.labels),
                       windows=list(prov.windows),
                       technical={"Loudness": rec.Loudness, "TruePeak": rec.TruePeak}, quality=list(prov.quality))
    return c, KnownAudio(rec.Duration or 0.0, rec.SampleRate or 0, rec.Channels or 0, rec.BitDepth)


def _find_move(task: Task, ctx: Context) -> bool:
    """A new path whose audio an index row holds under a path that is gone: a moved file."""
    gone = [row for row in ctx.store.files.find_by_fingerprint(task.fingerprint) if not os.path.exists(row.path)]
    if len(gone) != 1:
        return False
    task.indexed = gone[0]
    task.moved_from = gone[0].path
    task.notes.append(f"moved from {gone[0].path}")
    return True


def classify(task: Task, ctx: Context) -> Task:
    if task.unchanged_audio or task.classification is not None:
        return task
    task.stage = "classify"
    try:
        task.classification = ctx.engine.classify(task.audio)
    except ClassifierError as exc:
        return task.done(Outcome.FAILED, str(exc))
    return task


def embed(task: Task, ctx: Context) -> Task:
    """The sounds-like embeddings, unless the index holds them for this audio already (a file
    scanned before embeddings existed gets them here, without being classified again)."""
    if ctx.embedder is None or ctx.dry_run or getattr(ctx.embedder, "failed", False):
        return task
    task.stage = "embed"
    from sidecar.similarity.embedder import stored_form
    held = ctx.store.vectors.get(task.moved_from or task.path) if ctx.store is not None else None
    if held is not None and held.model == ctx.embedder.model and held.fingerprint == task.fingerprint:
        task.vector = held.vector
        if task.moved_from:
            task.embedding = held       # follows the moved file
        return task
    from sidecar.similarity.checkpoint import ModelUnavailable
    try:
        audio = task.audio if getattr(task.audio, "samples", None) is not None else formats.decode(task.path, task.format)
        task.embedding = stored_form(ctx.embedder.embed(audio.samples, audio.samplerate), task.fingerprint)
        task.vector = task.embedding.vector
    except ModelUnavailable:
        pass            # said once for the whole scan, where the model was loaded
    except (AudioError, ValueError, MemoryError) as exc:
        # the file is still tagged and indexed; only "sounds like" lacks it
        task.notes.append(f"no sounds-like embedding: {exc}")
    return task


def describe_and_merge(task: Task, ctx: Context) -> Task:
    if task.unchanged_audio:
        return task
    task.stage = "describe"
    c = task.classification
    vocab = ctx.vocabulary
    technical, quality = c.technical, c.quality
    if "TruePeak" not in technical:
        # loudness and the quality flags are facts of the audio, whatever engine listened
        from sidecar.classify.descriptors import technical_facts
        technical, quality = technical_facts(task.audio)
    # the flags are kept apart from the labels, and handed to describe beside them, which makes
    # keywords of them (never a sound, a CatID or a Description); of the words already there only
    # a person's are handed on: the service's earlier words give way to what it says now
    desc = vocab.describe(list(c.labels) + list(quality), list(task.person), expand=ctx.config.expand_synonyms)
    machine = Record(Description=desc.description, Keywords=desc.keywords, CatID=desc.CatID,
                     Category=desc.Category, SubCategory=desc.SubCategory, FXName=desc.fxname)
    ucs = vocab.parse_ucs_filename(os.path.basename(task.path))
    if ucs is not None:
        # a UCS name is a person's decision: it wins over any classifier, but not over a
        # CatID a person wrote into the file; CatID, Category and SubCategory go together
        if "CatID" not in task.human:
            info = vocab.cat_info(ucs.CatID)
            machine.CatID, machine.Category, machine.SubCategory = (
                info["CatID"], info["Category"], info["SubCategory"])
            for name in ("CatID", "Category", "SubCategory"):
                task.human.discard(name)
                setattr(task.existing, name, "")
        for name, value in (("FXName", ucs.FXName), ("ShortID", ucs.CreatorID),
                            ("Designer", ucs.CreatorID), ("Library", ucs.SourceID)):
            if value and task.existing.is_empty(name):
                setattr(machine, name, value)   # the name's FXName is a person's, before the labels'

    learned = _learned_category(task, ctx, ucs is not None)
    if learned is not None:
        info = vocab.cat_info(learned[0])
        machine.CatID, machine.Category, machine.SubCategory = info["CatID"], info["Category"], info["SubCategory"]
    _keep_category_whole(task, machine, vocab)
    audio = task.audio
    machine.Duration = round(audio.duration, 6)
    machine.SampleRate, machine.Channels = audio.samplerate, audio.channels
    machine.BitDepth = audio.bit_depth or task.existing.BitDepth
    machine.Loudness = technical.get("Loudness")
    machine.TruePeak = technical.get("TruePeak")
    # described again from what the index heard (never heard again): the time it was heard stays
    heard_at = task.indexed.record.provenance.time if isinstance(audio, KnownAudio) and task.indexed else ""
    machine.provenance = Provenance(
        engine=c.engine, model=c.model, version=c.version,
        time=heard_at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        labels=c.labels, quality=quality, windows=c.windows, synonyms_added=desc.synonyms_added,
        rules=getattr(vocab, "rules_version", ""))
    task.stage = "merge"
    task.record = ownership.merge(task.existing, machine, task.human, ctx.config.policy, task.person)
    _mark_category_source(task, ctx, ucs is not None, learned, c.labels)
    if ctx.config.policy == "replace":
        # what `replace` overwrote is the service's now, and is marked so
        task.human -= set(task.record.provenance.machine_fields)
    if task.record.provenance.person_keywords:
        # a person's words are in the list (even beside the service's, which `replace` replaced)
        task.human.add("Keywords")
    task.audio = None   # release the samples before the write
    if ctx.dry_run:
        return task.done(Outcome.PLANNED)
    return task


CATEGORY_FIELDS = ("CatID", "Category", "SubCategory")


def _learned_category(task: Task, ctx: Context, ucs_named: bool) -> tuple[str, float] | None:
    """The learned model's CatID for a file no person categorised, when it is confident enough."""
    model = ctx.categories
    if model is None or task.vector is None or ucs_named or set(CATEGORY_FIELDS) & task.human:
        return None
    import numpy as np
    vector = np.frombuffer(task.vector, "<f4")
    if not vector.any():
        return None
    catid, confidence = model.predict(vector, task.classification.labels if task.classification else ())
    return (catid, confidence) if confidence >= ctx.config.learn_min_confidence else None


def _mark_category_source(task: Task, ctx: Context, ucs_named: bool, learned, labels) -> None:
    """Provenance says where the category came from, and how sure that was."""
    rec = task.record
    prov = rec.provenance
    prov.category_source, prov.category_confidence, prov.category_model = "", None, ""
    if set(CATEGORY_FIELDS) & task.human:
        prov.category_source = "person"
    elif ucs_named:
        prov.category_source = "ucs_name"
    elif learned is not None and rec.CatID == learned[0]:
        prov.category_source, prov.category_confidence = "learned", round(learned[1], 4)
        prov.category_model = f"learned-{ctx.categories.version}"
    elif rec.CatID:
        prov.category_source = "audioset"
        vocab = ctx.vocabulary
        for lb in labels:
            entry = vocab.entry(lb.label, lb.mid)
            if entry and vocab.catid_of(entry) == rec.CatID:
                prov.category_confidence = round(lb.probability, 4)
                break


def _keep_category_whole(task: Task, machine: Record, vocab) -> None:
    """CatID, Category and SubCategory go together: a person's choice of any is never mixed
    with the classifier's other two."""
    fields = ("CatID", "Category", "SubCategory")
    mine = [f for f in fields if f in task.human]
    if not mine:
        return
    if "CatID" in mine:
        info = vocab.cat_info(task.existing.CatID)
        derived = {"Category": info["Category"], "SubCategory": info["SubCategory"]}
    else:
        derived = {"Category": "", "SubCategory": ""}
    machine.CatID = ""
    for name in ("Category", "SubCategory"):
        if name not in task.human:
            setattr(machine, name, derived[name])


def write(task: Task, ctx: Context) -> Task:
    task.stage = "write"
    cfg = ctx.config
    hardlinked = any("hard links" in n for n in task.notes)
    try:
        if not task.unchanged_audio and _writes_into_files(cfg, task.path) and not hardlinked \
                and _may_write_damaged(task, ctx):
            # container by container, what another tool or a person wrote stays; the service
            # replaces only its own earlier values and fills what is empty
            owner = ownership.Ownership(ours=task.ours, policy=cfg.policy,
                                        person=frozenset(w.lower() for w in task.record.provenance.person_keywords))
            task.written += write_embedded(task.path, task.record, task.format, journal=ctx.journal,
                                           riff=cfg.write_riff, embedded_tags=cfg.write_tags, owner=owner,
                                           repair=bool(task.damage))
            if task.damage:
                _report_repair(task)
        if cfg.write_sidecar:
            _write_sidecar(task, ctx)
    except FileError as exc:
        return task.done(Outcome.FAILED, exc.reason)
    except IndexUnavailable:
        raise               # not the file's fault: the daemon waits for the index, then tries again
    except (SidecarError, OSError) as exc:
        return task.done(Outcome.FAILED, str(exc))
    st = os.stat(task.path)
    task.size, task.mtime_ns = st.st_size, st.st_mtime_ns
    if task.unchanged_audio:
        return task.done(Outcome.REINDEXED, "audio unchanged; metadata re-read")
    return task.done(Outcome.CLASSIFIED)


def _may_write_damaged(task: Task, ctx: Context) -> bool:
    """A file whose header is damaged is written into only when asked (--repair)."""
    if not task.damage or ctx.repair:
        return True
    task.notes.append(f"damaged header ({'; '.join(task.damage)}): nothing written into the file, "
                      f"sidecar and index only (scan --repair to repair it)")
    return False


def _report_repair(task: Task) -> None:
    try:
        left = formats.get(task.format).damage(task.path)
    except ContainerError as exc:
        left = [str(exc)]
    fixed = [d for d in task.damage if d not in left]
    if fixed:
        task.notes.append(f"repaired: {'; '.join(fixed)}")
    if left:
        task.notes.append(f"written with --repair, still damaged: {'; '.join(left)}")


def _write_sidecar(task: Task, ctx: Context) -> None:
    """The sidecar beside the file (or in the mirror), journaled; a person's edits in it are kept."""
    from sidecar.metadata import sidecar_xml
    from sidecar.pipeline.write import write_sidecar_journaled
    cfg = ctx.config
    identity = sidecar_xml.Identity(name=os.path.basename(task.path), size=os.stat(task.path).st_size,
                                    fingerprint=task.fingerprint, path=os.path.abspath(task.path))
    mirror = cfg.mirror_for(task.path)
    doc = sidecar_xml.sidecar_path(task.path, mirror)
    if task.unchanged_audio and doc.exists():
        old = doc.read_bytes()
        if old == sidecar_xml.render(task.record, identity, human=task.human):
            return
    new = not doc.exists()
    write_sidecar_journaled(ctx.journal, task.path, task.record, identity, mirror=mirror, human=task.human)
    task.written.append("sidecar")
    if new and sidecar_xml.is_shortened(doc.name):
        task.notes.append(f"name too long for `NAME.EXT.xml`: its sidecar is {doc.name}")


STAGES = (probe, fingerprint, classify, embed, describe_and_merge, write)


def process(task: Task, ctx: Context, stop=None) -> Task:
    """Run the stages up to the index; any unexpected error fails this file only.

    stop: a function asked before each stage; when it says yes the task is left
    unfinished (outcome None) with nothing written, to be taken up again later.
    """
    for stage in STAGES:
        if stop is not None and stop():
            break
        try:
            task = stage(task, ctx)
        except IndexUnavailable:
            raise           # the index's server, not the file: the caller waits for it
        except SidecarError as exc:
            task.done(Outcome.FAILED, str(exc))
        except Exception as exc:  # one bad file must never stop a library scan
            task.done(Outcome.FAILED, f"unexpected {type(exc).__name__}: {exc}")
        if task.finished:
            break
    if task.outcome == Outcome.FAILED and task.damage:
        task.reason += f" (damaged header: {'; '.join(task.damage)})"     # what explains the failure
    task.audio = None
    return task
