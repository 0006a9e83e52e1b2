//! Builds the browser app (`web/`, TypeScript) with npm and leaves it in `OUT_DIR/web`, where
//! `src/assets.rs` embeds it: the server binary carries its pages.
//!
//! Needs Node.js and npm. `npm ci` runs when `web/node_modules` is missing or older than the
//! lockfile; then `node build.mjs`. Set `ROULETTE_WEB_DIST` to a directory that already holds
//! the built files (`index.html`, `app.js`, `style.css`) to skip npm altogether.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

const FILES: &[&str] = &["index.html", "app.js", "style.css"];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("web");
    std::fs::create_dir_all(&out).expect("creating OUT_DIR/web");
    println!("cargo:rerun-if-env-changed=ROULETTE_WEB_DIST");
    if let Some(dist) = std::env::var_os("ROULETTE_WEB_DIST") {
        let dist = PathBuf::from(dist);
        for f in FILES {
            let from = dist.join(f);
            println!("cargo:rerun-if-changed={}", from.display());
            if let Err(e) = std::fs::copy(&from, out.join(f)) {
                fail(&format!(
                    "ROULETTE_WEB_DIST: cannot copy {}: {e}",
                    from.display()
                ));
            }
        }
        return;
    }
    let web = manifest.join("..").join("web");
    let web = web.canonicalize().unwrap_or(web);
    for p in ["src", "package.json", "package-lock.json", "build.mjs"] {
        println!("cargo:rerun-if-changed={}", web.join(p).display());
    }
    // Two cargo processes (say, a build and clippy) must not run npm in one folder at once.
    let lock = File::create(out.join(".lock")).and_then(|f| f.lock().map(|()| f));
    let _lock = lock.unwrap_or_else(|e| fail(&format!("locking the web build: {e}")));
    let web_lock = File::create(web.join(".build-lock")).and_then(|f| f.lock().map(|()| f));
    let _web_lock = web_lock.unwrap_or_else(|e| fail(&format!("locking web/: {e}")));
    if needs_install(&web) {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&web),
            "npm ci",
        );
    }
    run(
        Command::new("node")
            .arg("build.mjs")
            .arg("--outdir")
            .arg(&out)
            .current_dir(&web),
        "node build.mjs",
    );
    for f in FILES {
        if !out.join(f).exists() {
            fail(&format!("the web build did not produce {f}"));
        }
    }
}

/// Whether `node_modules` is missing or older than the lockfile.
fn needs_install(web: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (
        modified(&web.join("node_modules/.package-lock.json")),
        modified(&web.join("package-lock.json")),
    ) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    }
}

fn run(cmd: &mut Command, what: &str) {
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("`{what}` in web/ failed ({s})")),
        Err(e) => fail(&format!(
            "`{what}` could not start ({e}). The browser app is built with Node.js and npm: \
             install them (Debian: apt-get install nodejs npm), or set ROULETTE_WEB_DIST to a \
             directory with a built copy"
        )),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    panic!("{msg}");
}
