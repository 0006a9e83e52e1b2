//! Faults under the store: the database locked by another program, and the disk full. The
//! session goes on, the failure is logged and counted, and once the fault is gone every record
//! written meanwhile lands, in order, with the database intact.

mod common;
use common::*;
use roulette_transport::{ClientMessage, ServerMessage, Text};
use std::path::Path;
use std::time::Duration;

/// A metric's value from `/metrics`.
async fn metric(server: &TestServer, name: &str) -> u64 {
    let (_, text) = get(server.addr, "/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn until_true(what: &str, mut check: impl AsyncFnMut() -> bool) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} never happened"));
}

/// A report and a chat line in a fresh session: the session must go on whatever the disk does.
async fn report_and_chat(server: &TestServer) {
    let (mut host, mut guest) = paired(server).await;
    host.send(&ClientMessage::Chat {
        text: Text::new("still talking").unwrap(),
    })
    .await
    .unwrap();
    expect_message(
        &mut guest,
        "the chat",
        |m| matches!(m, ServerMessage::Chat { text, .. } if text.as_str() == "still talking"),
    )
    .await;
    guest
        .send(&ClientMessage::Report {
            reason: Text::new("written while the disk could not take it").unwrap(),
        })
        .await
        .unwrap();
    expect_message(&mut guest, "the end", |m| {
        matches!(m, ServerMessage::Ended { .. })
    })
    .await;
}

fn integrity(dir: &Path) -> String {
    let conn = rusqlite::Connection::open(roulette_server::store::db_path(dir)).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_delays_writes_and_loses_none() {
    let server = TestServer::start().await;
    let locker =
        rusqlite::Connection::open(roulette_server::store::db_path(server.data_dir.path()))
            .unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    report_and_chat(&server).await;
    until_true("a failed write", async || {
        metric(&server, "roulette_store_errors_total").await > 0
    })
    .await;
    assert!(server.shared.store.reports().await.unwrap().is_empty());
    locker.execute_batch("COMMIT").unwrap();
    drop(locker);
    until_true("the report to land", async || {
        server.shared.store.reports().await.unwrap().len() == 1
    })
    .await;
    let counters = server.shared.store.counters().await.unwrap();
    assert!(
        counters.get("sessions").copied().unwrap_or(0) >= 1,
        "{counters:?}"
    );
    let dir = server.stop().await;
    assert_eq!(integrity(dir.path()), "ok");
}

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "this test mounts a small tmpfs to fill it, which needs root (CI runs as root)"
        );
        SmallDisk { dir }
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.dir.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_delays_writes_and_loses_none() {
    let disk = SmallDisk::mount("2m");
    let data = tempfile::tempdir_in(disk.dir.path()).unwrap();
    let server = TestServer::in_dir(test_config(), data).await;
    let filler = disk.fill();
    report_and_chat(&server).await;
    until_true("a failed write", async || {
        metric(&server, "roulette_store_errors_total").await > 0
    })
    .await;
    std::fs::remove_file(&filler).unwrap();
    until_true("the report to land", async || {
        server.shared.store.reports().await.unwrap().len() == 1
    })
    .await;
    let data = server.stop().await;
    assert_eq!(integrity(data.path()), "ok");
}
