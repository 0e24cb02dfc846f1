//! Finding the server programs on this machine.

use std::path::{Path, PathBuf};

use crate::LocalError;

/// Finds `program` in the directories of `PATH`.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

/// Finds the directory holding PostgreSQL's `initdb` and `postgres`.
///
/// Debian keeps the server programs off `PATH`, under
/// `/usr/lib/postgresql/<major>/bin`; we take `PATH` first, then the newest major
/// version there.
pub fn find_postgres_bin_dir() -> Result<PathBuf, LocalError> {
    if let Some(initdb) = find_on_path("initdb") {
        if let Some(dir) = initdb.parent() {
            if is_executable(&dir.join("postgres")) {
                return Ok(dir.to_path_buf());
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (is_executable(&bin.join("initdb")) && is_executable(&bin.join("postgres")))
                .then_some((major, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or(LocalError::MissingProgram {
            program: "PostgreSQL server (initdb, postgres)",
            hint: "Install it with `apt-get install postgresql` (Debian/Ubuntu), \
                   or put a directory holding `initdb` and `postgres` on PATH.",
        })
}

/// Finds `redis-server` on `PATH`.
pub(crate) fn find_redis_server() -> Result<PathBuf, LocalError> {
    find_on_path("redis-server").ok_or(LocalError::MissingProgram {
        program: "redis-server",
        hint: "Install it with `apt-get install redis-server` (Debian/Ubuntu).",
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
