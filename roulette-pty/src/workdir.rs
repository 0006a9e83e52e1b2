//! Where the agent runs: by default a new private temporary directory; never the home
//! directory, `/`, or a directory that contains home.

use std::path::{Path, PathBuf};

use crate::error::PtyError;

/// The agent's working directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum WorkDir {
    /// A new directory under the system's temporary directory, mode 0700, removed with
    /// everything in it when the agent ends.
    #[default]
    Temp,
    /// A directory the host chose; it is kept.
    Path(PathBuf),
}

/// Checks a directory the host chose. Refuses `/`, the home directory, and any directory
/// that contains the home directory: an agent there could read or change everything the host
/// owns.
pub fn check_workdir(dir: &Path, home: Option<&Path>) -> Result<PathBuf, PtyError> {
    let canonical = dir
        .canonicalize()
        .map_err(|source| PtyError::WorkDirUnusable {
            dir: dir.to_path_buf(),
            source,
        })?;
    if !canonical.is_dir() {
        return Err(PtyError::WorkDirUnusable {
            dir: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    if canonical.parent().is_none() {
        return Err(PtyError::WorkDirRefused {
            dir: dir.to_path_buf(),
            why: "it is the root directory; use a project directory or the default temporary one",
        });
    }
    if let Some(home) = home.and_then(|h| h.canonicalize().ok()) {
        if canonical == home {
            return Err(PtyError::WorkDirRefused {
                dir: dir.to_path_buf(),
                why: "it is your home directory; use a project directory or the default temporary one",
            });
        }
        if home.starts_with(&canonical) {
            return Err(PtyError::WorkDirRefused {
                dir: dir.to_path_buf(),
                why: "it contains your home directory; use a project directory or the default temporary one",
            });
        }
    }
    Ok(canonical)
}

/// Makes the private temporary directory.
pub(crate) fn make_temp() -> Result<tempfile::TempDir, PtyError> {
    let dir = tempfile::Builder::new()
        .prefix("roulette-session-")
        .tempdir()
        .map_err(PtyError::TempDir)?;
    // tempfile creates directories with mode 0700 on Unix; make sure of it all the same.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(PtyError::TempDir)?;
    }
    Ok(dir)
}
