//! The audit spool: every queued event is appended to a local journal before the call
//! is answered, so a proxy that dies without draining its queue (SIGKILL, the OOM killer,
//! an abort) loses none of the rows of the calls it answered.
//!
//! Each process journals into a directory of its own under the spool root, holding an
//! exclusive lock on the directory's `lock` file for as long as it lives; the kernel
//! releases that lock when the process dies, however it dies. An event stays in its
//! segment file until the writer has stored it in Postgres (or counted it lost), and a
//! segment whose events are all settled is deleted. Any proxy sharing the root takes
//! over a directory whose lock it can take ([`Spool::orphans`]): it queues the events
//! found there as its own and then deletes them, so a crashed sibling's rows arrive
//! within one adoption interval, and a restarted process picks up its predecessor's.
//! Ids are the events' own and the insert ignores a row it already has, so an event
//! written before the crash and replayed after it is stored once.
//!
//! A write reaches the kernel's page cache, not the disk: the journal survives the
//! process, not the machine. Rows that must survive a machine's loss need
//! `settings.audit: strict`, which writes them to Postgres before the call goes on.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use mcpgate_store::audit::AuditEvent;
use mcpgate_store::AuditEventId;
use rustix::fs::{flock, FlockOperation};

/// The file whose lock marks a journal directory as owned by a live process.
const LOCK_FILE: &str = "lock";
/// Segment files are `<sequence>.jsonl`.
const SEGMENT_EXTENSION: &str = "jsonl";
/// Events appended to one segment before the next one is started.
const SEGMENT_EVENTS: usize = 4096;

/// This process's journal.
#[derive(Debug)]
pub(crate) struct Spool {
    root: PathBuf,
    dir: PathBuf,
    /// Held (locked) until the process ends.
    _lock: File,
    journal: Mutex<Journal>,
}

#[derive(Debug)]
struct Journal {
    current: Segment,
    /// Segments no longer appended to, with their unsettled events.
    closed: BTreeMap<u64, usize>,
    /// The segment holding each unsettled event.
    events: HashMap<AuditEventId, u64>,
    line: Vec<u8>,
}

#[derive(Debug)]
struct Segment {
    sequence: u64,
    file: File,
    appended: usize,
    unsettled: usize,
}

/// What [`Spool::append`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Appended {
    Journaled,
    /// This journal already holds an event with that id (taken over twice).
    AlreadyHeld,
}

impl Spool {
    /// Creates this process's journal directory under `root` (made if missing) and locks it.
    pub(crate) fn open(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root)?;
        let dir = root.join(format!("proxy-{}", uuid::Uuid::new_v4()));
        fs::create_dir(&dir)?;
        let lock = File::create(dir.join(LOCK_FILE))?;
        if !try_lock(&lock)? {
            return Err(io::Error::other("a fresh journal directory is locked"));
        }
        let current = Segment::create(&dir, 0)?;
        Ok(Self {
            root: root.to_owned(),
            dir,
            _lock: lock,
            journal: Mutex::new(Journal {
                current,
                closed: BTreeMap::new(),
                events: HashMap::new(),
                line: Vec::with_capacity(512),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Journal> {
        // Every change under the lock is completed or returns an error before the
        // counters move, so a poisoned lock still holds consistent counts.
        self.journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends `event` to the journal; when this returns it survives the process.
    pub(crate) fn append(&self, event: &AuditEvent) -> io::Result<Appended> {
        let mut guard = self.lock();
        let journal = &mut *guard;
        if journal.events.contains_key(&event.id) {
            return Ok(Appended::AlreadyHeld);
        }
        journal.line.clear();
        serde_json::to_writer(&mut journal.line, event)?;
        journal.line.push(b'\n');
        if journal.current.appended >= SEGMENT_EVENTS {
            let next = Segment::create(&self.dir, journal.current.sequence + 1)?;
            let full = std::mem::replace(&mut journal.current, next);
            if full.unsettled == 0 {
                remove_segment(&self.dir, full.sequence);
            } else {
                journal.closed.insert(full.sequence, full.unsettled);
            }
        }
        journal.current.file.write_all(&journal.line)?;
        journal.current.appended += 1;
        journal.current.unsettled += 1;
        journal.events.insert(event.id, journal.current.sequence);
        Ok(Appended::Journaled)
    }

    /// Marks events as done with (stored, set aside or counted lost): a segment whose
    /// events are all settled is deleted, and the current one emptied.
    pub(crate) fn settle(&self, ids: impl IntoIterator<Item = AuditEventId>) {
        let mut guard = self.lock();
        let journal = &mut *guard;
        for id in ids {
            let Some(sequence) = journal.events.remove(&id) else {
                continue;
            };
            if sequence == journal.current.sequence {
                journal.current.unsettled -= 1;
                continue;
            }
            let Some(unsettled) = journal.closed.get_mut(&sequence) else {
                continue;
            };
            *unsettled -= 1;
            if *unsettled == 0 {
                journal.closed.remove(&sequence);
                remove_segment(&self.dir, sequence);
            }
        }
        if journal.current.unsettled == 0 && journal.current.appended > 0 {
            match journal.current.file.set_len(0) {
                Ok(()) => journal.current.appended = 0,
                Err(error) => {
                    tracing::warn!(%error, dir = %self.dir.display(), "emptying an audit journal segment failed");
                }
            }
        }
    }

    /// Events journaled and not yet settled.
    pub(crate) fn unsettled(&self) -> usize {
        self.lock().events.len()
    }

    /// After the writer has drained: deletes the journal when every event is settled,
    /// and otherwise leaves it for the next process to take over.
    pub(crate) fn close(&self) {
        let unsettled = self.unsettled();
        if unsettled == 0 {
            if let Err(error) = fs::remove_dir_all(&self.dir) {
                tracing::warn!(%error, dir = %self.dir.display(), "removing the audit journal failed");
            }
        } else {
            tracing::warn!(
                unsettled,
                dir = %self.dir.display(),
                "audit events not yet written stay in the journal; the next proxy to run \
                 with this MCPGATE_PROXY_AUDIT_SPOOL_DIR writes them"
            );
        }
    }

    /// Journal directories under the root whose process has stopped, each now locked by
    /// this process. A directory still being created (no lock file yet) is skipped.
    pub(crate) fn orphans(&self) -> io::Result<Vec<Orphan>> {
        let mut orphans = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let path = entry?.path();
            if path == self.dir || !path.is_dir() {
                continue;
            }
            let lock = match File::open(path.join(LOCK_FILE)) {
                Ok(lock) => lock,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            if try_lock(&lock)? {
                orphans.push(Orphan {
                    dir: path,
                    _lock: lock,
                });
            }
        }
        orphans.sort_by(|a, b| a.dir.cmp(&b.dir));
        Ok(orphans)
    }
}

impl Segment {
    fn create(dir: &Path, sequence: u64) -> io::Result<Self> {
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(segment_path(dir, sequence))?;
        Ok(Self {
            sequence,
            file,
            appended: 0,
            unsettled: 0,
        })
    }
}

/// Takes the exclusive `flock` on `file` without waiting; false when another open
/// file description (another process's) holds it. Released when the file is closed,
/// which the kernel does for a process that dies.
fn try_lock(file: &File) -> io::Result<bool> {
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

fn segment_path(dir: &Path, sequence: u64) -> PathBuf {
    dir.join(format!("{sequence:020}.{SEGMENT_EXTENSION}"))
}

fn remove_segment(dir: &Path, sequence: u64) {
    if let Err(error) = fs::remove_file(segment_path(dir, sequence)) {
        tracing::warn!(%error, dir = %dir.display(), sequence, "removing a settled audit journal segment failed");
    }
}

/// A stopped process's journal, locked by this process while it takes it over.
#[derive(Debug)]
pub(crate) struct Orphan {
    dir: PathBuf,
    _lock: File,
}

/// The events of one segment file, and how many of its lines could not be read.
#[derive(Debug)]
pub(crate) struct SegmentEvents {
    pub(crate) path: PathBuf,
    pub(crate) events: Vec<AuditEvent>,
    pub(crate) unreadable: usize,
}

impl Orphan {
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment files, oldest first.
    pub(crate) fn segments(&self) -> io::Result<Vec<PathBuf>> {
        let mut segments = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|ext| ext == SEGMENT_EXTENSION) {
                segments.push(path);
            }
        }
        segments.sort();
        Ok(segments)
    }

    /// Reads one segment. A line that is not an event (torn by a crash mid-write, or
    /// damaged on disk) is counted and skipped.
    pub(crate) fn read(path: &Path) -> io::Result<SegmentEvents> {
        let mut events = Vec::new();
        let mut unreadable = 0;
        for line in BufReader::new(File::open(path)?).split(b'\n') {
            let line = line?;
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<AuditEvent>(&line) {
                Ok(event) => events.push(event),
                Err(_) => unreadable += 1,
            }
        }
        Ok(SegmentEvents {
            path: path.to_owned(),
            events,
            unreadable,
        })
    }

    /// Deletes the taken-over journal (its events are in this process's own now).
    pub(crate) fn finish(self) -> io::Result<()> {
        fs::remove_dir_all(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use mcpgate_store::TenantId;

    use super::*;

    fn event() -> AuditEvent {
        AuditEvent {
            id: AuditEventId::new(),
            tenant_id: TenantId::new(),
            at: Utc::now(),
            server_id: None,
            grant_id: None,
            request_id: Some("r-1".into()),
            method: "tools/call".into(),
            tool: Some("delete_file".into()),
            decision: "allow".into(),
            rule: None,
            reason: None,
            policy_version: Some(3),
            upstream_status: Some(200),
            latency_us: Some(812),
            argument_keys: vec!["path".into()],
            arguments: None,
            actor: None,
        }
    }

    fn segment_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == SEGMENT_EXTENSION))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn a_live_journal_is_not_an_orphan_and_a_dropped_ones_unsettled_events_are_read_back() {
        let root = tempfile::tempdir().unwrap();
        let survivor = Spool::open(root.path()).unwrap();
        let crashed = Spool::open(root.path()).unwrap();
        let events: Vec<AuditEvent> = (0..3).map(|_| event()).collect();
        for event in &events {
            assert_eq!(crashed.append(event).unwrap(), Appended::Journaled);
        }
        crashed.settle([events[0].id]);
        assert!(
            survivor.orphans().unwrap().is_empty(),
            "the other journal's process still holds its lock"
        );

        // Dropping the spool without close() is what a crash leaves: files, no lock.
        let crashed_dir = crashed.dir.clone();
        drop(crashed);
        let orphans = survivor.orphans().unwrap();
        assert_eq!(orphans.len(), 1);
        assert_eq!(orphans[0].dir(), crashed_dir);
        let segments = orphans[0].segments().unwrap();
        assert_eq!(segments.len(), 1);
        let read = Orphan::read(&segments[0]).unwrap();
        assert_eq!(read.unreadable, 0);
        let ids: Vec<AuditEventId> = read.events.iter().map(|e| e.id).collect();
        // All three are there: settling does not rewrite a segment still in use, and
        // the first one being stored again is harmless (the insert ignores known ids).
        assert_eq!(ids, events.iter().map(|e| e.id).collect::<Vec<_>>());
        assert_eq!(read.events[1].latency_us, Some(812));
        assert!(
            survivor.orphans().unwrap().is_empty(),
            "an orphan being taken over is locked by its taker"
        );
        orphans.into_iter().next().unwrap().finish().unwrap();
        assert!(!crashed_dir.exists());
    }

    #[test]
    fn settled_segments_are_deleted_and_the_current_one_emptied() {
        let root = tempfile::tempdir().unwrap();
        let spool = Spool::open(root.path()).unwrap();
        let events: Vec<AuditEvent> = (0..SEGMENT_EVENTS + 2).map(|_| event()).collect();
        for event in &events {
            spool.append(event).unwrap();
        }
        let files = segment_files(&spool.dir);
        assert_eq!(files.len(), 2, "a full segment makes way for a new one");
        spool.settle(events[..SEGMENT_EVENTS - 1].iter().map(|e| e.id));
        assert_eq!(
            segment_files(&spool.dir).len(),
            2,
            "one event of the first is unsettled"
        );
        spool.settle([events[SEGMENT_EVENTS - 1].id]);
        assert_eq!(segment_files(&spool.dir), files[1..]);
        assert_eq!(spool.unsettled(), 2);
        spool.settle(events[SEGMENT_EVENTS..].iter().map(|e| e.id));
        assert_eq!(spool.unsettled(), 0);
        assert_eq!(fs::metadata(&files[1]).unwrap().len(), 0);
        let dir = spool.dir.clone();
        spool.close();
        assert!(!dir.exists(), "a fully settled journal is removed on close");
    }

    #[test]
    fn an_unsettled_journal_outlives_close_and_a_torn_line_is_skipped() {
        let root = tempfile::tempdir().unwrap();
        let spool = Spool::open(root.path()).unwrap();
        let kept = event();
        spool.append(&kept).unwrap();
        assert_eq!(spool.append(&kept).unwrap(), Appended::AlreadyHeld);
        let dir = spool.dir.clone();
        spool.close();
        let segment = segment_files(&dir).remove(0);
        let mut file = OpenOptions::new().append(true).open(&segment).unwrap();
        file.write_all(b"{\"id\":\"torn").unwrap();
        let read = Orphan::read(&segment).unwrap();
        assert_eq!(read.events.len(), 1);
        assert_eq!(read.events[0].id, kept.id);
        assert_eq!(read.unreadable, 1);
    }
}
