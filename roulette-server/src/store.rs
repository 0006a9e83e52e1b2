//! What survives a restart, in SQLite in the data directory: the signing key, invites (hashed),
//! reports and aggregate counters. Nothing else: no chat, no terminal bytes, no addresses.
//!
//! The connection lives on its own thread; the rest of the server sends it commands and never
//! waits for a write. A failed write (the disk full, the database locked by another program)
//! is logged and counted, the session goes on, and the write is tried again, in order, until
//! it succeeds: nothing is lost while the queue holds.

use prometheus_client::metrics::counter::Counter;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use tokio::sync::{mpsc, oneshot};

use crate::error::ServerError;

/// The database file inside the data directory.
pub const DB_FILE: &str = "roulette.sqlite3";

/// An invite as stored: only the hash of its code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteRecord {
    /// Hex SHA-256 of the code.
    pub hash_hex: String,
    /// The inviter's match key.
    pub inviter_key: String,
    /// Unix seconds after which it lapses.
    pub expires_unix: u64,
}

/// A report as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRecord {
    /// Unix seconds.
    pub at_unix: u64,
    /// The reporter's match key.
    pub reporter_key: String,
    /// The reported partner's match key.
    pub reported_key: String,
    /// The sanitised reason.
    pub reason: String,
}

enum Command {
    SaveInvite(InviteRecord),
    DeleteInvite(String),
    AddReport(ReportRecord),
    Bump(&'static str, u64),
    Counters(oneshot::Sender<HashMap<String, u64>>),
    Reports(oneshot::Sender<Vec<ReportRecord>>),
    Invites(oneshot::Sender<Vec<InviteRecord>>),
}

/// Writes queued for the store thread before new ones are dropped (and logged).
const STORE_QUEUE: usize = 10_000;
/// Failed writes kept for retrying; beyond this the oldest are given up (and logged).
const MAX_PENDING: usize = 10_000;
/// How often failed writes are tried again.
const RETRY_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// A handle to the store thread. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    commands: mpsc::Sender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("store command")
    }
}

/// The database with its schema, and the signing key (made on first use).
pub fn open_database(data_dir: &Path) -> Result<(Connection, [u8; 32]), ServerError> {
    create_private_dir(data_dir)?;
    let conn = Connection::open(data_dir.join(DB_FILE))?;
    conn.busy_timeout(std::time::Duration::from_secs(2))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
         CREATE TABLE IF NOT EXISTS invites (
             hash TEXT PRIMARY KEY, inviter_key TEXT NOT NULL, expires_unix INTEGER NOT NULL);
         CREATE TABLE IF NOT EXISTS reports (
             id INTEGER PRIMARY KEY, at_unix INTEGER NOT NULL, reporter_key TEXT NOT NULL,
             reported_key TEXT NOT NULL, reason TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);",
    )?;
    let key = signing_key(&conn)?;
    Ok((conn, key))
}

fn create_private_dir(dir: &Path) -> Result<(), ServerError> {
    let err = |source| ServerError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}

/// The signing key: read from the database, or made from the OS's random generator and stored.
/// There is no built-in default key.
fn signing_key(conn: &Connection) -> Result<[u8; 32], ServerError> {
    let existing: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'signing_key'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(bytes) = existing
        && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
    {
        return Ok(key);
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| ServerError::Random(e.to_string()))?;
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('signing_key', ?1)",
        params![key.to_vec()],
    )?;
    Ok(key)
}

impl Store {
    /// Moves `conn` onto the store thread.
    pub fn start(conn: Connection) -> Store {
        Store::start_counting(conn, Counter::default())
    }

    /// Moves `conn` onto the store thread; failed writes are counted in `errors`.
    pub fn start_counting(conn: Connection, errors: Counter) -> Store {
        let (commands, rx) = mpsc::channel(STORE_QUEUE);
        std::thread::Builder::new()
            .name("roulette-store".into())
            .spawn(move || run(&conn, rx, &errors))
            .ok();
        Store { commands }
    }

    /// Opens the database in `data_dir` and starts the store thread.
    pub fn open(data_dir: &Path) -> Result<(Store, [u8; 32]), ServerError> {
        Store::open_counting(data_dir, Counter::default())
    }

    /// The same, counting failed writes in `errors`.
    pub fn open_counting(
        data_dir: &Path,
        errors: Counter,
    ) -> Result<(Store, [u8; 32]), ServerError> {
        let (conn, key) = open_database(data_dir)?;
        Ok((Store::start_counting(conn, errors), key))
    }

    fn send(&self, command: Command) {
        // Never wait on the disk from an actor: a full queue (a stalled disk) drops the write.
        if let Err(e) = self.commands.try_send(command) {
            tracing::error!(
                full = matches!(e, mpsc::error::TrySendError::Full(_)),
                "a record was not persisted"
            );
        }
    }

    /// Stores an invite's hash.
    pub fn save_invite(&self, record: InviteRecord) {
        self.send(Command::SaveInvite(record));
    }

    /// Forgets an invite.
    pub fn delete_invite(&self, hash_hex: String) {
        self.send(Command::DeleteInvite(hash_hex));
    }

    /// Stores a report.
    pub fn add_report(&self, record: ReportRecord) {
        self.send(Command::AddReport(record));
    }

    /// Adds to an aggregate counter.
    pub fn bump(&self, counter: &'static str, by: u64) {
        self.send(Command::Bump(counter, by));
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, ServerError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| ServerError::StoreGone)?;
        rx.await.map_err(|_| ServerError::StoreGone)
    }

    /// Every aggregate counter.
    pub async fn counters(&self) -> Result<HashMap<String, u64>, ServerError> {
        self.ask(Command::Counters).await
    }

    /// Every stored report.
    pub async fn reports(&self) -> Result<Vec<ReportRecord>, ServerError> {
        self.ask(Command::Reports).await
    }

    /// Every stored invite.
    pub async fn invites(&self) -> Result<Vec<InviteRecord>, ServerError> {
        self.ask(Command::Invites).await
    }
}

/// A write the store thread keeps until it succeeds.
#[derive(Debug)]
enum Write {
    SaveInvite(InviteRecord),
    DeleteInvite(String),
    AddReport(ReportRecord),
    Bump(&'static str, u64),
}

/// The store thread: reads are answered at once; writes go through a queue of their own, in
/// order, and one that fails stays at its head until it succeeds.
fn run(conn: &Connection, mut rx: mpsc::Receiver<Command>, errors: &Counter) {
    let mut pending: VecDeque<Write> = VecDeque::new();
    loop {
        let command = if pending.is_empty() {
            match rx.blocking_recv() {
                Some(c) => Some(c),
                None => return,
            }
        } else {
            match rx.try_recv() {
                Ok(c) => Some(c),
                Err(mpsc::error::TryRecvError::Empty) => {
                    std::thread::sleep(RETRY_EVERY);
                    None
                }
                Err(mpsc::error::TryRecvError::Disconnected) => None,
            }
        };
        match command.map(split) {
            Some(Ok(write)) => pending.push_back(write),
            Some(Err(read)) => {
                if let Err(e) = answer(conn, read) {
                    tracing::error!(error = %e, "could not read from the database");
                }
            }
            None => {}
        }
        while let Some(write) = pending.front() {
            match apply(conn, write) {
                Ok(()) => {
                    pending.pop_front();
                }
                Err(e) => {
                    // The disk is full or another program holds the database: the session goes
                    // on, and this write is tried again before any later one.
                    errors.inc();
                    tracing::error!(error = %e, waiting = pending.len(), "could not persist; will retry");
                    break;
                }
            }
        }
        if pending.len() > MAX_PENDING {
            pending.pop_front();
            tracing::error!("gave up a record after the database failed for too long");
        }
        if rx.is_closed() && rx.is_empty() && pending.is_empty() {
            return;
        }
    }
}

/// A command as a write, or as a read to answer.
fn split(command: Command) -> Result<Write, Command> {
    match command {
        Command::SaveInvite(r) => Ok(Write::SaveInvite(r)),
        Command::DeleteInvite(h) => Ok(Write::DeleteInvite(h)),
        Command::AddReport(r) => Ok(Write::AddReport(r)),
        Command::Bump(n, by) => Ok(Write::Bump(n, by)),
        read => Err(read),
    }
}

fn apply(conn: &Connection, write: &Write) -> Result<(), rusqlite::Error> {
    match write {
        Write::SaveInvite(r) => {
            conn.execute(
                "INSERT OR REPLACE INTO invites (hash, inviter_key, expires_unix) VALUES (?1, ?2, ?3)",
                params![r.hash_hex, r.inviter_key, r.expires_unix as i64],
            )?;
        }
        Write::DeleteInvite(hash) => {
            conn.execute("DELETE FROM invites WHERE hash = ?1", params![hash])?;
        }
        Write::AddReport(r) => {
            conn.execute(
                "INSERT INTO reports (at_unix, reporter_key, reported_key, reason) VALUES (?1, ?2, ?3, ?4)",
                params![r.at_unix as i64, r.reporter_key, r.reported_key, r.reason],
            )?;
        }
        Write::Bump(name, by) => {
            conn.execute(
                "INSERT INTO counters (name, value) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                params![name, *by as i64],
            )?;
        }
    }
    Ok(())
}

fn answer(conn: &Connection, command: Command) -> Result<(), rusqlite::Error> {
    match command {
        Command::SaveInvite(_)
        | Command::DeleteInvite(_)
        | Command::AddReport(_)
        | Command::Bump(..) => {}
        Command::Counters(reply) => {
            let mut stmt = conn.prepare("SELECT name, value FROM counters")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .filter_map(Result::ok)
                .map(|(k, v)| (k, v.max(0) as u64))
                .collect();
            let _ = reply.send(rows);
        }
        Command::Reports(reply) => {
            let mut stmt = conn.prepare(
                "SELECT at_unix, reporter_key, reported_key, reason FROM reports ORDER BY id",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(ReportRecord {
                        at_unix: r.get::<_, i64>(0)?.max(0) as u64,
                        reporter_key: r.get(1)?,
                        reported_key: r.get(2)?,
                        reason: r.get(3)?,
                    })
                })?
                .filter_map(Result::ok)
                .collect();
            let _ = reply.send(rows);
        }
        Command::Invites(reply) => {
            let mut stmt = conn.prepare("SELECT hash, inviter_key, expires_unix FROM invites")?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(InviteRecord {
                        hash_hex: r.get(0)?,
                        inviter_key: r.get(1)?,
                        expires_unix: r.get::<_, i64>(2)?.max(0) as u64,
                    })
                })?
                .filter_map(Result::ok)
                .collect();
            let _ = reply.send(rows);
        }
    }
    Ok(())
}

/// The data directory's database path, for tools.
pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DB_FILE)
}
