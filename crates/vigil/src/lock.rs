//! The data-directory lock: one process at a time runs a pipeline on an
//! embedded SQLite data directory (the server, or an offline ingest).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Takes the exclusive lock on `<dir>/vigil.lock`, or explains who holds it.
pub fn acquire(dir: &Path, what: &str) -> Result<DataDirLock> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    let path = dir.join("vigil.lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "another vigil process"
            } else {
                holder
            };
            bail!(
                "the data directory {} is in use by {holder}; stop it first, or ingest through its API \
                 (curl --data-binary @FILE http://ADDR/api/v1/ingest)",
                dir.display()
            );
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "vigil {what} (pid {})", std::process::id())?;
    file.flush()?;
    Ok(DataDirLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let l = acquire(dir.path(), "serve").unwrap();
        let e = acquire(dir.path(), "ingest").unwrap_err().to_string();
        assert!(e.contains("in use by vigil serve (pid"), "{e}");
        drop(l);
        acquire(dir.path(), "ingest").unwrap();
    }
}
